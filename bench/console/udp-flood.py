#!/usr/bin/env python3
"""Creates IPVS connection entries in the lab kernel from the host side of its tap link.

One UDP datagram per (source port, destination port) pair, sent from the tap's
host address to the guest's tap address, where bench services on UDP ports are
configured. IPVS makes one entry per new tuple and keeps it for its UDP timeout
(300 s); sending the same tuples again refreshes them instead of adding more.
Only the lab's own address is ever a destination.

  udp-flood.py SRC DST PORT[,PORT...] COUNT_PER_PORT [RATE_PER_S]
"""
import socket
import struct
import sys
import time

src, dst, ports_arg, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rate = int(sys.argv[5]) if len(sys.argv) > 5 else 5000
if not dst.startswith('169.254.150.'):
    sys.exit('udp-flood: destination must be the lab tap address (169.254.150.x)')
ports = [int(p) for p in ports_arg.split(',')]
if count > 64000:
    sys.exit('udp-flood: at most 64000 source ports per destination port')

# The kernel writes the IP header; we write the UDP header, so the source port is ours to pick.
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
s.bind((src, 0))
payload = b'director-bench'
sent = 0
t0 = time.monotonic()
for i in range(count):
    sport = 1024 + i
    for dport in ports:
        # checksum 0: "no checksum" is valid for UDP over IPv4
        hdr = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0)
        s.sendto(hdr + payload, (dst, dport))
        sent += 1
        if sent % 500 == 0:
            ahead = sent / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
print(f'udp-flood: sent {sent} datagrams in {time.monotonic() - t0:.1f} s', flush=True)
