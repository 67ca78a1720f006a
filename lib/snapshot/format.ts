/**
 * Model -> `ipvsadm -Sn` text, byte for byte (reference §8.4), plus `-x/-y`
 * when a real server has thresholds (ipvsadm drops them on save but accepts
 * them on restore, so a Director snapshot keeps them).
 */
import type { DestinationSpec, ServiceFlags, ServiceRules, ServiceSpec } from '../ipvs/model';
import { defaultNetmask, schedulerFlagNames } from '../ipvs/rules';
import { destinationArg, serviceArg } from './keys';
import { serviceOrderLikeIpvsadm, sortDestinationsLikeIpvsadm } from './sort';

export interface FormatOptions {
  /** Append `-x/-y` to real servers with thresholds (default true; false gives plain `ipvsadm -Sn`). */
  thresholds?: boolean;
  /** Keep the given order instead of ipvsadm's (default false). */
  keepOrder?: boolean;
  /**
   * Hands the text over in pieces (a service and its real servers at a time, about 64 kB each), in order,
   * and returns '': a save of 10,000 services then never holds its whole text at once.
   */
  emit?: (text: string) => void;
}

export function schedFlagsText(scheduler: string, f: ServiceFlags): string {
  const [n1, n2, n3] = schedulerFlagNames(scheduler);
  const names: string[] = [];
  if (f.sched1) names.push(n1);
  if (f.sched2) names.push(n2);
  // ipvsadm -S prints no flag-3 for sh and mh
  if (f.sched3 && scheduler !== 'sh' && scheduler !== 'mh') names.push(n3);
  return names.join(',');
}

export function formatServiceLine(s: ServiceSpec): string {
  let out = `-A ${serviceArg(s.key)} -s ${s.scheduler}`;
  if (s.flags.persistent) {
    out += ` -p ${s.timeout}`;
    if (s.netmask !== defaultNetmask(s.key.family)) out += ` -M ${s.netmask}`;
  }
  if (s.pe) out += ` --pe ${s.pe}`;
  if (s.flags.onePacket) out += ' -o';
  // ipvsadm prints " -b " even when no name applies (a lone SCHED3 on sh/mh)
  if (s.flags.sched1 || s.flags.sched2 || s.flags.sched3) out += ` -b ${schedFlagsText(s.scheduler, s.flags)}`;
  return out;
}

/** ipvsadm -Sn's switch for each forwarding method. */
export const FWD_SWITCH: Record<DestinationSpec['forward'], string> = {
  nat: '-m', tun: '-i', dr: '-g', local: '-g', bypass: '(null)',
};

export function formatDestinationLine(s: ServiceSpec, d: DestinationSpec, thresholds = true): string {
  let out = `-a ${serviceArg(s.key)} -r ${destinationArg(d)} ${FWD_SWITCH[d.forward]} -w ${d.weight}`;
  if (thresholds) {
    if (d.upperThreshold) out += ` -x ${d.upperThreshold}`;
    if (d.lowerThreshold) out += ` -y ${d.lowerThreshold}`;
  }
  if (d.forward === 'tun') {
    const t = d.tunnel;
    if (t.type === 'ipip') out += ' --tun-type ipip';
    else if (t.type === 'gue') out += ` --tun-type gue --tun-port ${t.port} --tun-${t.checksum}`;
    else out += ` --tun-type gre --tun-${t.checksum}`;
  }
  return out;
}

const EMIT_CHARS = 64 * 1024;

export function formatSnapshot(services: readonly ServiceRules[], opts: FormatOptions = {}): string {
  const thresholds = opts.thresholds ?? true;
  const order = opts.keepOrder ? null : serviceOrderLikeIpvsadm(services);
  let out = '';
  for (let k = 0; k < services.length; k++) {
    if (opts.emit && out.length >= EMIT_CHARS) {
      opts.emit(out);
      out = '';
    }
    const i = order ? order[k]! : k;
    const s = services[i]!;
    out += formatServiceLine(s) + '\n';
    const dests = opts.keepOrder ? s.destinations : sortDestinationsLikeIpvsadm(s.destinations);
    for (const d of dests) out += formatDestinationLine(s, d, thresholds) + '\n';
  }
  if (!opts.emit) return out;
  opts.emit(out);
  return '';
}
