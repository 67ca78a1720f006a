/**
 * iputils arping: its fixed arguments and the replies in its output, pure.
 * The agent runs /usr/bin/arping through execFile (no shell): a raw socket
 * would need a native module, and arping holds CAP_NET_RAW by file capability.
 */
import { parseIPv4 } from '../net/ip';

/** Interface names the kernel allows (IFNAMSIZ 16 with the NUL): refuse anything else before it becomes an argument. */
const IFNAME = /^[A-Za-z0-9_.:@-]{1,15}$/;

export function arpingArgs(t: { vip: string; interface: string; source: string }): string[] {
  if (!IFNAME.test(t.interface)) throw new Error(`arping: interface ${JSON.stringify(t.interface)} is not an interface name`);
  for (const a of [t.vip, t.source]) if (!parseIPv4(a)) throw new Error(`arping: ${JSON.stringify(a)} is not an IPv4 address`);
  // -b: keep broadcasting, so every host holding the address answers every request, not only the first one seen;
  // -c 2 -w 3: two requests, at most 3 s; -s: the director's own address (the VIP as sender would be a martian to the answerer)
  return ['-b', '-c', '2', '-w', '3', '-I', t.interface, '-s', t.source, t.vip];
}

/** "Unicast reply from 192.168.150.100 [02:AA:BB:CC:DD:EE]  0.61ms" -> one answer per distinct MAC, at most `max`. */
export function parseArping(out: string, max = 32): { ip: string; mac: string }[] {
  const seen = new Map<string, { ip: string; mac: string }>();
  for (const m of out.matchAll(/^(?:Unicast|Broadcast) reply from (\d{1,3}(?:\.\d{1,3}){3}) \[([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\]/gm)) {
    const mac = m[2]!.toLowerCase();
    if (!seen.has(mac) && seen.size < max) seen.set(mac, { ip: m[1]!, mac });
  }
  return [...seen.values()];
}
