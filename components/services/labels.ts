import type { ForwardMethod, ServiceSpec } from '@/lib/ipvs/model';
import { schedulerFlagNames } from '../forms/schedulers';

export const FORWARD_LABEL: Record<ForwardMethod, string> = {
  nat: 'NAT (masq)', dr: 'DR (route)', tun: 'Tunnel', local: 'Local', bypass: 'Bypass',
};

const FORWARD_SHORT: Record<ForwardMethod, string> = { nat: 'NAT', dr: 'DR', tun: 'TUN', local: 'local', bypass: 'bypass' };

/** The forwarding methods a service's real servers use, e.g. ["DR"] or ["DR", "TUN"]; none when it has no real server. */
export function serviceForwardLabels(s: { destinations: readonly { forward: ForwardMethod }[] }): string[] {
  const seen = new Set(s.destinations.map((d) => d.forward));
  return (Object.keys(FORWARD_SHORT) as ForwardMethod[]).filter((m) => seen.has(m)).map((m) => FORWARD_SHORT[m]);
}

/** Flags as ipvsadm names them, persistence with its timeout and mask. */
export function serviceFlagLabels(s: ServiceSpec): string[] {
  const out: string[] = [];
  if (s.flags.persistent) {
    const fullMask = s.key.family === 'inet' ? '255.255.255.255' : '128';
    out.push(`persistent ${s.timeout}s${s.netmask && s.netmask !== fullMask ? ` /${s.netmask}` : ''}`);
  }
  if (s.flags.onePacket) out.push('one-packet');
  const names = schedulerFlagNames(s.scheduler);
  if (s.flags.sched1) out.push(names[0]);
  if (s.flags.sched2) out.push(names[1]);
  if (s.flags.sched3) out.push(names[2]);
  if (s.pe) out.push(`pe ${s.pe}`);
  return out;
}
