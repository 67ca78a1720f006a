import type { ForwardMethod } from '@/lib/ipvs/model';

/**
 * A real server with SYN_RECV entries piling up: the director forwarded the
 * client's SYN but never saw the handshake complete. Causes depend on how the
 * director forwards (the seed's lessons, in the order worth checking).
 */
export interface SynRecvFinding {
  synRecv: number;
  total: number;
  share: number;
  severity: 'warn' | 'critical';
  causes: string[];
}

/** At least this many SYN_RECV entries before we say anything (a few are normal under load). */
export const SYN_RECV_MIN = 10;
/** …and at least this share of the server's entries. */
export const SYN_RECV_SHARE = 0.2;

export function synRecvFinding(byState: Readonly<Record<string, number>>, forward: ForwardMethod): SynRecvFinding | null {
  const synRecv = byState.SYN_RECV ?? 0;
  let total = 0;
  for (const v of Object.values(byState)) total += v;
  if (synRecv < SYN_RECV_MIN || total === 0 || synRecv / total < SYN_RECV_SHARE) return null;
  const share = synRecv / total;
  const causes = ['The real server is not answering: service down, not listening on this port, or a firewall dropping the SYN.'];
  if (forward === 'dr') {
    causes.push('DR: the VIP is missing on the real server\'s loopback (ip addr add <VIP>/32 dev lo), so it drops packets addressed to the VIP.');
    causes.push('DR: ARP is not suppressed on the real server (net.ipv4.conf.all.arp_ignore=1, arp_announce=2), so it answers ARP for the VIP and clients bypass the director.');
  } else if (forward === 'nat') {
    causes.push('NAT: the real server\'s default route does not point at the director, so replies bypass it and the director never sees the handshake complete.');
  } else if (forward === 'tun') {
    causes.push('TUN: the real server has no tunnel interface carrying the VIP (ip link add tunl0 type ipip; ip addr add <VIP>/32 dev tunl0), or rp_filter drops the decapsulated packets.');
  }
  return { synRecv, total, share, severity: share >= 0.5 ? 'critical' : 'warn', causes };
}
