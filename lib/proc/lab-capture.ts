/** /proc/net/ip_vs as the lab kernel printed it: a sample for the parser's tests and its fuzzing. */
// Captured in the lab kernel (Linux 6.1.176 UML, HZ=100) after:
//   -A -t 10.1.1.1:80 -s rr -p 300 -M 255.255.255.0; -a ... -r 10.2.2.2:80 -m -w 3
//   -A -u 10.1.1.1:53 -s wlc -o; -a ... -r 10.2.2.3 -g
//   -A -f 7 -s rr -p 60; -a -f 7 -r 10.2.2.2:0 -i
//   -A -f 9 -6 -s rr -p 60 -M 64; -a -f 9 -6 -r [2001:db8::b]:0 -g
//   -A -t [2001:db8::1]:80 -s sh -p 100 -M 64; -a ... -r [2001:db8::a]:8080 -m
//   -A --sctp-service 10.1.1.3:3868 -s nq
export const LAB_PROC_IP_VS = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
SCTP  0A010103:0F1C nq  
TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0050 sh persistent 10000 40000000
  -> [2001:0db8:0000:0000:0000:0000:0000:000a]:1F90      Masq    1      0          0         
UDP  0A010101:0035 wlc ops  
  -> 0A020203:0035      Route   1      0          0         
TCP  0A010101:0050 rr  persistent 30000 FFFFFF00
  -> 0A020202:0050      Masq    3      0          0         
FWM  00000007 rr persistent 6000 FFFFFFFF
  -> 0A020202:0000      Tunnel  1      0          0         
FWM  00000009 rr persistent 6000 40000000
  -> [2001:0db8:0000:0000:0000:0000:0000:000b]:0000      Route   1      0          0         
`;
