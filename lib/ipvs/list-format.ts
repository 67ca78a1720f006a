/**
 * `director list` text: the same layout `ipvsadm -Ln` prints (default,
 * --stats, --rate, --thresholds, --persistent-conn, --exact), so operators
 * and their scripts can read it the same way.
 */
import { formatHostPort } from '../net/ip';
import type { DestinationKey, DestinationState, ForwardMethod, IpvsInfo, ServiceEntry, ServiceKey, ServiceSpec, ServiceState } from './model';
import { serviceOrderLikeIpvsadm, sortDestinationsLikeIpvsadm } from '../snapshot/sort';
import { schedulerFlagNames } from './rules';

export type ListFormat = 'default' | 'stats' | 'rate' | 'thresholds' | 'persistent-conn' | 'tun-info';

export interface ListOptions {
  format?: ListFormat;
  exact?: boolean;
  /** keep kernel order, as --nosort */
  nosort?: boolean;
  /** the `IP Virtual Server version` line, which ipvsadm leaves out when it lists one service (-L -t ...) */
  versionLine?: boolean;
  /**
   * Hands the text over in pieces of EMIT_LINES lines, in order, and returns '': a listing of 10,000
   * services then never holds its 50,000 lines at once (in the lab kernel, copying surviving objects
   * in young-generation GCs is most of what `director list` costs beyond its reads).
   */
  emit?: (text: string) => void;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
export const PROTO_LABEL = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' } as const;

/** ipvsadm's print_largenum: 9 columns, abbreviated with K/M/G/T unless exact. */
export function largeNum(v: number, exact = false): string {
  const n = Math.trunc(v);
  if (exact) {
    const s = String(n);
    return lpad(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (n < 1e8) return lpad(String(n), 9);
  if (n < 1e9) return lpad(String(Math.trunc(n / 1e3)), 8) + 'K';
  if (n < 1e11) return lpad(String(Math.trunc(n / 1e6)), 8) + 'M';
  if (n < 1e14) return lpad(String(Math.trunc(n / 1e9)), 8) + 'G';
  return lpad(String(Math.trunc(n / 1e12)), 8) + 'T';
}

export function serviceLabel(key: ServiceKey): string {
  if (key.kind === 'fwmark') return `FWM  ${key.fwmark}${key.family === 'inet6' ? ' IPv6' : ''}`;
  const label = `${pad(PROTO_LABEL[key.protocol], 4)} ${formatHostPort(key.family, key.address, key.port)}`;
  return key.family === 'inet6' ? label : label.slice(0, 33);
}

function destLabel(svc: ServiceKey, d: DestinationKey): string {
  const label = formatHostPort(d.family, d.address, d.port);
  return svc.family === 'inet6' ? label : label.slice(0, 28);
}

export const FORWARD_LABEL: Record<ForwardMethod, string> = {
  nat: 'Masq', local: 'Local', tun: 'Tunnel', dr: 'Route', bypass: '(null)',
};

/** Names of the scheduler flags set on a service, as ipvsadm names them. */
export function schedFlagNames(s: Pick<ServiceState, 'scheduler' | 'flags'>): string[] {
  // most services set none: no arrays for them (a listing asks once per service)
  if (!s.flags.sched1 && !s.flags.sched2 && !s.flags.sched3) return [];
  const names = schedulerFlagNames(s.scheduler);
  const bits = [s.flags.sched1, s.flags.sched2, s.flags.sched3];
  return names.filter((_, i) => bits[i]);
}

/** A service's line in the layouts without counters (default, --thresholds, --persistent-conn, --tun-info). */
export function serviceLine(s: ServiceSpec): string {
  let line = `${serviceLabel(s.key)} ${s.scheduler}`;
  const flags = schedFlagNames(s);
  if (flags.length) line += ` (${flags.join(',')})`;
  if (s.flags.persistent) {
    line += ` persistent ${s.timeout}`;
    const full = s.key.family === 'inet6' ? '128' : '255.255.255.255';
    if (s.netmask !== full) line += ` mask ${s.netmask}`;
    if (s.pe) line += ` pe ${s.pe}`;
  }
  if (s.flags.onePacket) line += ' ops';
  return line;
}

/**
 * A number left-aligned in `w` columns. Weights and connection counts are mostly small: those padded texts
 * are made once per width (`director list` of 10,000 × 4 prints 120,000 of them).
 */
const SMALL = 100;
const paddedSmall = new Map<number, string[]>();
function u(n: number, w: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= SMALL) return pad(String(n), w);
  let row = paddedSmall.get(w);
  if (!row) paddedSmall.set(w, row = Array.from({ length: SMALL }, (_, i) => pad(String(i), w)));
  return row[n]!;
}
const FORWARD_COLUMN: Record<ForwardMethod, string> = Object.fromEntries(
  Object.entries(FORWARD_LABEL).map(([k, v]) => [k, pad(v, 7)])) as Record<ForwardMethod, string>;

const CSUM_LABEL = { nocsum: '-c', csum: '+c', remcsum: 'r+c' } as const;

/** ipvsadm --tun-info's column: `ipip`, `gue:6080:+c`, `gre:-c`, or `n/a` for a real server that is not tunnelled. */
function tunnelInfo(d: DestinationState): string {
  if (d.forward !== 'tun') return 'n/a';
  const t = d.tunnel;
  if (t.type === 'gue') return `gue:${t.port}:${CSUM_LABEL[t.checksum]}`;
  if (t.type === 'gre') return `gre:${CSUM_LABEL[t.checksum]}`;
  return 'ipip';
}

/** The lines above the first service: the version line (unless `versionLine` is false) and the column titles. */
export function headLines(info: IpvsInfo, format: ListFormat, versionLine = true): string[] {
  const out: string[] = versionLine ? [`IP Virtual Server version ${info.version} (size=${info.connTableSize})`] : [];
  const titled = (cols: string) => out.push(`${pad('Prot LocalAddress:Port', 33)} ${cols}`, '  -> RemoteAddress:Port');
  switch (format) {
    case 'stats': titled(['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((c) => lpad(c, 8)).join(' ')); break;
    case 'rate': titled(['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'].map((c) => lpad(c, 8)).join(' ')); break;
    case 'thresholds': titled(['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'].map((c) => pad(c, 10)).join(' ')); break;
    case 'persistent-conn': titled(`${pad('Weight', 9)} ${pad('PersistConn', 11)} ${pad('ActiveConn', 10)} ${pad('InActConn', 10)}`); break;
    case 'tun-info':
      out.push('Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn');
      break;
    default:
      out.push('Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
  }
  return out;
}

/** A real server's line in the default layout. */
export function defaultDestinationLine(svc: ServiceKey, d: Omit<DestinationState, 'stats' | 'tunnel' | 'persistentConns' | 'upperThreshold' | 'lowerThreshold'>): string {
  return `  -> ${pad(destLabel(svc, d), 28)} ${FORWARD_COLUMN[d.forward]} ${u(d.weight, 6)} ${u(d.activeConns, 10)} ${u(d.inactiveConns, 10)}`;
}

/** Lines per piece handed to ListOptions.emit. */
const EMIT_LINES = 1000;

export function formatList(services: readonly ServiceEntry[], info: IpvsInfo, opts: ListOptions = {}): string {
  const format = opts.format ?? 'default';
  const exact = opts.exact ?? false;
  const out = headLines(info, format, opts.versionLine ?? true);
  const order = opts.nosort ? null : serviceOrderLikeIpvsadm(services);
  for (let k = 0; k < services.length; k++) {
    if (opts.emit && out.length >= EMIT_LINES) {
      opts.emit(out.join('\n') + '\n');
      out.length = 0;
    }
    const i = order ? order[k]! : k;
    const s = services[i]!;
    const dests = opts.nosort ? s.destinations : sortDestinationsLikeIpvsadm(s.destinations);
    const st = s.stats;
    if (format === 'stats') {
      out.push(pad(serviceLabel(s.key), 33) + [st.conns, st.inPkts, st.outPkts, st.inBytes, st.outBytes].map((n) => largeNum(n, exact)).join(''));
    } else if (format === 'rate') {
      out.push(pad(serviceLabel(s.key), 33) + [st.cps, st.inPps, st.outPps, st.inBps, st.outBps].map((n) => largeNum(n, exact)).join(''));
    } else {
      out.push(serviceLine(s));
    }
    for (const d of dests) {
      const head = `  -> ${pad(destLabel(s.key, d), 28)}`;
      const ds = d.stats;
      switch (format) {
        case 'stats':
          out.push(head + [ds.conns, ds.inPkts, ds.outPkts, ds.inBytes, ds.outBytes].map((n) => largeNum(n, exact)).join(''));
          break;
        case 'rate':
          out.push(`${head} ${lpad(String(ds.cps), 8)} ${lpad(String(ds.inPps), 8)} ${lpad(String(ds.outPps), 8)}` +
            largeNum(ds.inBps, exact) + largeNum(ds.outBps, exact));
          break;
        case 'thresholds':
          out.push(`${head} ${u(d.upperThreshold, 10)} ${u(d.lowerThreshold, 10)} ${u(d.activeConns, 10)} ${u(d.inactiveConns, 10)}`);
          break;
        case 'persistent-conn':
          out.push(`${head} ${u(d.weight, 9)} ${u(d.persistentConns, 11)} ${u(d.activeConns, 10)} ${u(d.inactiveConns, 10)}`);
          break;
        case 'tun-info':
          out.push(`${head} ${pad(FORWARD_LABEL[d.forward], 7)} ${pad(tunnelInfo(d), 13)} ${u(d.weight, 6)} ${u(d.activeConns, 10)} ${u(d.inactiveConns, 10)}`);
          break;
        default:
          out.push(defaultDestinationLine(s.key, d));
      }
    }
  }
  const tail = out.join('\n') + '\n';
  if (!opts.emit) return tail;
  opts.emit(tail);
  return '';
}
