/**
 * Each IPVS bound and rule once, from the kernel and ipvsadm (reference
 * §4.5, §6.1, §8.1). The zod schemas (lib/schemas/ipvs.ts), the snapshot
 * fast path (lib/snapshot/validate.ts), the netlink client's checks
 * (validate.ts), the snapshot and keepalived parsers and the console's forms
 * take their limits and cross-field rules from here, so a new rule is one
 * edit; each caller words the refusal for its context (a form field, a file
 * line, an object label). rules.test.ts holds the three validators to the
 * same boundaries.
 */
import { IP_VS_SCHEDNAME_MAXLEN } from './constants';
import {
  FAMILIES, FORWARD_METHODS, PROTOCOLS, SCHEDULERS, TUNNEL_CHECKSUMS, TUNNEL_TYPES, type AddressFamily, type DestinationSpec,
  type ServiceKey, type ServiceSpec, type TunnelSpec,
} from './model';
import { parseIPv4, parseIPv6 } from '../net/ip';

export const U32_MAX = 4294967295;
export const I32_MAX = 2147483647;

/** An inclusive range of whole numbers. */
export interface Bound {
  readonly min: number;
  readonly max: number;
}

/** Virtual service and real server ports; 0 is "any port" on a persistent service. */
export const PORT: Bound = { min: 0, max: 65535 };
/** Firewall marks: u32, and 0 means "no fwmark". */
export const FWMARK: Bound = { min: 1, max: U32_MAX };
/** The kernel stores weights and thresholds as int. */
export const WEIGHT: Bound = { min: 0, max: I32_MAX };
/** Upper and lower connection thresholds; 0 means none. */
export const THRESHOLD: Bound = { min: 0, max: I32_MAX };
/** Persistence timeout in seconds: ipvsadm's and keepalived's 31 days; 0 when not persistent. */
export const PERSISTENCE_TIMEOUT: Bound = { min: 0, max: 2678400 };
/** A GUE tunnel's UDP port (other tunnel types have none: 0). */
export const GUE_PORT: Bound = { min: 1, max: 65535 };
/** An IPv6 persistence granularity is a prefix length. */
export const IPV6_PREFIX: Bound = { min: 1, max: 128 };
/** Connection timeouts (tcp, tcpfin, udp) in seconds: INT_MAX / HZ with HZ up to 1000 (reference §6.1); 0 keeps the current value. */
export const CONN_TIMEOUT: Bound = { min: 0, max: 2147483 };
/** The longest netmask text: an IPv6 address written out in full. */
export const MAX_NETMASK_TEXT = 39;
/** Sync daemon settings (ip_vs_sync.c). */
export const SYNC_ID: Bound = { min: 0, max: 255 };
export const SYNC_MAXLEN: Bound = { min: 1, max: 65507 };
export const SYNC_PORT: Bound = { min: 1, max: 65535 };
export const SYNC_TTL: Bound = { min: 1, max: 255 };
/** IP_VS_SCHEDNAME_MAXLEN / IP_VS_PENAME_MAXLEN minus the NUL. */
export const MAX_NAME_LENGTH = IP_VS_SCHEDNAME_MAXLEN - 1;

/** Whether `n` is a whole number inside `b`. */
export function inBound(n: unknown, b: Bound): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= b.min && n <= b.max;
}

/** "0..65535" */
export function boundText(b: Bound): string {
  return `${b.min}..${b.max}`;
}

export { FAMILIES, FORWARD_METHODS, PROTOCOLS, TUNNEL_CHECKSUMS, TUNNEL_TYPES };
/** Scheduler names Director accepts: the kernel's modules plus 'none' (no scheduler, newer kernels). */
export const SCHEDULER_NAMES: readonly string[] = [...SCHEDULERS, 'none'];
/** Persistence engine names ("sip"); at most MAX_NAME_LENGTH. */
export const PE_NAME = /^[a-z0-9_]+$/;

/** What a scheduler or interface name attribute can carry: visible ASCII, at most MAX_NAME_LENGTH (the kernel keeps a NUL). */
export const NAME_TEXT = new RegExp(`^[\\x21-\\x7e]{1,${MAX_NAME_LENGTH}}$`);

export function isPeName(name: string): boolean {
  return name.length >= 1 && name.length <= MAX_NAME_LENGTH && PE_NAME.test(name);
}

/** What the scheduler flags sched1..3 mean for a scheduler, as ipvsadm and keepalived name them. */
export function schedulerFlagNames(scheduler: string): [string, string, string] {
  if (scheduler === 'sh') return ['sh-fallback', 'sh-port', 'flag-3'];
  if (scheduler === 'mh') return ['mh-fallback', 'mh-port', 'flag-3'];
  return ['flag-1', 'flag-2', 'flag-3'];
}

/** The mask ipvsadm uses when none is given, so a round trip through the kernel is stable. */
export function defaultNetmask(family: AddressFamily): string {
  return family === 'inet' ? '255.255.255.255' : '128';
}

/** True for a 32-bit mask made of ones then zeros (255.255.255.0 as a number). */
export function isContiguousMaskValue(v: number): boolean {
  const inv = (U32_MAX - v) >>> 0;
  return ((inv & (inv + 1)) >>> 0) === 0;
}

/** True for masks like 255.255.255.0; ipvsadm and the kernel also take others (`-M 24` is 0.0.0.24). */
export function isContiguousV4Mask(text: string): boolean {
  const b = parseIPv4(text);
  if (!b) return false;
  return isContiguousMaskValue(((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0);
}

/**
 * Persistence granularity: IPv4 a contiguous dotted mask, IPv6 a prefix
 * length 1..128. ipvsadm and the kernel would take any IPv4 value (`-M 24`
 * is 0.0.0.24, almost always a mistake); Director refuses non-contiguous
 * masks before anything is sent.
 */
export function netmaskProblem(family: AddressFamily, netmask: string): string | null {
  if (family === 'inet6') {
    return /^\d{1,3}$/.test(netmask) && inBound(Number(netmask), IPV6_PREFIX)
      ? null
      : `an IPv6 persistence netmask is a prefix length ${boundText(IPV6_PREFIX)}, not '${netmask}'`;
  }
  if (!parseIPv4(netmask)) return `an IPv4 persistence netmask is a dotted quad like 255.255.255.0, not '${netmask}'`;
  return isContiguousV4Mask(netmask) ? null : `persistence netmask ${netmask} is not contiguous (a prefix mask like 255.255.255.0 is expected)`;
}

/** Whether a 32-bit IPv4 address may be a real server: not 0.0.0.0, broadcast or multicast (the kernel's EINVAL). */
export function usableIPv4Value(v: number): boolean {
  return v > 0 && v !== U32_MAX && !(v >= 0xe0000000 && v < 0xf0000000);
}

/** Addresses the kernel refuses for a real server (EINVAL): unspecified, broadcast, multicast. */
export function unusableRealServer(family: AddressFamily, address: string): string | null {
  if (family === 'inet') {
    const b = parseIPv4(address);
    if (!b) return null;
    if (b.every((x) => x === 0)) return 'the unspecified address 0.0.0.0 cannot be a real server';
    if (b.every((x) => x === 255)) return 'the broadcast address cannot be a real server';
    if (b[0]! >= 224 && b[0]! <= 239) return `multicast address ${address} cannot be a real server`;
    return null;
  }
  const b = parseIPv6(address);
  if (!b) return null;
  if (b.every((x) => x === 0)) return 'the unspecified address :: cannot be a real server';
  if (b[0] === 0xff) return `multicast address ${address} cannot be a real server`;
  return null;
}

// Cross-field rules (reference §6.1): the kernel does not check these itself; ipvsadm does.

/** A persistent service needs a timeout of at least 1 s. */
export function persistentWithoutTimeout(s: Pick<ServiceSpec, 'flags' | 'timeout'>): boolean {
  return s.flags.persistent && s.timeout === 0;
}

/** Port 0 (any port) works only on a persistent service. */
export function anyPortWithoutPersistence(s: Pick<ServiceSpec, 'flags' | 'key'>): boolean {
  return s.key.kind === 'addr' && s.key.port === 0 && !s.flags.persistent;
}

/** One-packet scheduling is only for UDP and fwmark services. */
export function onePacketNotAllowed(s: { flags: { onePacket: boolean }; key: ServiceKey }): boolean {
  return s.flags.onePacket && s.key.kind === 'addr' && s.key.protocol !== 'udp';
}

/** Tunnel options set on a real server that does not tunnel. */
export function tunnelOptionsWithoutTunnel(d: Pick<DestinationSpec, 'forward' | 'tunnel'>): boolean {
  const t = d.tunnel;
  return d.forward !== 'tun' && (t.type !== 'ipip' || t.port !== 0 || t.checksum !== 'nocsum');
}

/** The tunnel's settings that do not fit its type, by field; none for a valid tunnel. */
export type TunnelProblem = 'gue_needs_port' | 'port_without_gue' | 'gre_remote_checksum' | 'ipip_checksum';
export function tunnelProblems(t: TunnelSpec): TunnelProblem[] {
  const out: TunnelProblem[] = [];
  if (t.type === 'gue' ? !inBound(t.port, GUE_PORT) : t.port !== 0) out.push(t.type === 'gue' ? 'gue_needs_port' : 'port_without_gue');
  if (t.type === 'gre' && t.checksum === 'remcsum') out.push('gre_remote_checksum');
  if (t.type === 'ipip' && t.checksum !== 'nocsum') out.push('ipip_checksum');
  return out;
}

/** The kernel answers ERANGE when l_threshold > u_threshold, including l > 0 with u = 0. */
export function thresholdsInverted(d: Pick<DestinationSpec, 'lowerThreshold' | 'upperThreshold'>): boolean {
  return d.lowerThreshold > d.upperThreshold;
}

/** A real server of the other address family works only through a tunnel. */
export function familyMixWithoutTunnel(service: AddressFamily, d: Pick<DestinationSpec, 'family' | 'forward'>): boolean {
  return d.family !== service && d.forward !== 'tun';
}
