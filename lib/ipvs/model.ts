/**
 * Director's typed model of the kernel's IPVS table.
 *
 * Identity (ServiceKey, DestinationKey) is kept apart from configuration
 * (ServiceSpec, DestinationSpec) and from observed state (stats, connection
 * counts), so equality of rules never depends on counters.
 *
 * Counters are JS numbers: the kernel's u64 counters stay exact up to 2^53
 * (9 PB of bytes); above that only the lowest bits round, which no rate or
 * display depends on, and it keeps every value JSON-serialisable for tRPC.
 */

// The value lists are the rules' (rules.ts re-exports them); the types are read from them.
export const FAMILIES = ['inet', 'inet6'] as const;
export type AddressFamily = (typeof FAMILIES)[number];
export const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Forwarding methods by their operator names: NAT (-m), DR (-g), TUN (-i). */
export const FORWARD_METHODS = ['nat', 'dr', 'tun', 'local', 'bypass'] as const;
export type ForwardMethod = (typeof FORWARD_METHODS)[number];

export const TUNNEL_TYPES = ['ipip', 'gue', 'gre'] as const;
export type TunnelType = (typeof TUNNEL_TYPES)[number];
export const TUNNEL_CHECKSUMS = ['nocsum', 'csum', 'remcsum'] as const;
export type TunnelChecksum = (typeof TUNNEL_CHECKSUMS)[number];

/** Schedulers the kernel ships (ip_vs_<name> modules); 'none' is accepted by newer kernels. */
export const SCHEDULERS = [
  'rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh',
] as const;
export type KnownScheduler = (typeof SCHEDULERS)[number];

export type ServiceKey =
  | { kind: 'addr'; family: AddressFamily; protocol: Protocol; address: string; port: number }
  | { kind: 'fwmark'; family: AddressFamily; fwmark: number };

/** A service key whose protocol may be any name, as connection entries carry ('ip_50'): what ids and labels take. */
export type AnyServiceKey =
  | Extract<ServiceKey, { kind: 'fwmark' }>
  | (Omit<Extract<ServiceKey, { kind: 'addr' }>, 'protocol'> & { protocol: string });

export interface ServiceFlags {
  persistent: boolean;
  onePacket: boolean;
  /** IP_VS_SVC_F_SCHED1: sh-fallback / mh-fallback / flag-1 */
  sched1: boolean;
  /** IP_VS_SVC_F_SCHED2: sh-port / mh-port / flag-2 */
  sched2: boolean;
  /** IP_VS_SVC_F_SCHED3: flag-3 */
  sched3: boolean;
}

/** Everything an operator configures on a virtual service. */
export interface ServiceSpec {
  key: ServiceKey;
  scheduler: string;
  flags: ServiceFlags;
  /** Persistence timeout in seconds (0 when not persistent). */
  timeout: number;
  /** Persistence granularity: IPv4 dotted mask ("255.255.255.0") or IPv6 prefix length ("64"). */
  netmask: string;
  /** Persistence engine ("sip") or null. */
  pe: string | null;
}

export interface DestinationKey {
  family: AddressFamily;
  address: string;
  port: number;
}

export interface TunnelSpec {
  type: TunnelType;
  /** GUE destination UDP port; 0 for ipip/gre. */
  port: number;
  checksum: TunnelChecksum;
}

/** Everything an operator configures on a real server. */
export interface DestinationSpec extends DestinationKey {
  forward: ForwardMethod;
  weight: number;
  /** u_threshold, 0 = none */
  upperThreshold: number;
  /** l_threshold, 0 = none */
  lowerThreshold: number;
  tunnel: TunnelSpec;
}

/** Kernel counters (cumulative since creation or ZERO) and the kernel's estimator rates. */
export interface Stats {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
  cps: number;
  inPps: number;
  outPps: number;
  inBps: number;
  outBps: number;
}

export interface DestinationState extends DestinationSpec {
  activeConns: number;
  inactiveConns: number;
  persistentConns: number;
  stats: Stats;
}

export interface ServiceState extends ServiceSpec {
  stats: Stats;
}

/** A service with its real servers, as read from the kernel. */
export interface ServiceEntry extends ServiceState {
  destinations: DestinationState[];
}

/** A service with its real servers, as configured (snapshots, plans). */
export interface ServiceRules extends ServiceSpec {
  destinations: DestinationSpec[];
}

export interface IpvsInfo {
  /** e.g. "1.2.1" */
  version: string;
  versionCode: number;
  connTableSize: number;
}

export interface Timeouts {
  /** TCP ESTABLISHED timeout, seconds */
  tcp: number;
  /** TCP FIN_WAIT timeout, seconds */
  tcpFin: number;
  udp: number;
}

export type SyncState = 'master' | 'backup';

export interface SyncDaemon {
  state: SyncState;
  interface: string;
  syncId: number;
  maxLen: number;
  /** multicast group (IPv4 or IPv6) */
  group: string;
  port: number;
  ttl: number;
}

export interface SyncDaemonConfig {
  state: SyncState;
  interface: string;
  syncId: number;
  maxLen?: number;
  group?: string;
  port?: number;
  ttl?: number;
}

export const ZERO_STATS: Readonly<Stats> = Object.freeze({
  conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0,
  cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0,
});

export const DEFAULT_FLAGS: Readonly<ServiceFlags> = Object.freeze({
  persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false,
});

export const DEFAULT_TUNNEL: Readonly<TunnelSpec> = Object.freeze({ type: 'ipip', port: 0, checksum: 'nocsum' });

/** ipvsadm's bare `-p` (libipvs IPVS_SVC_PERSISTENT_TIMEOUT), not the 300 s its man page claims. */
export const DEFAULT_PERSISTENCE_TIMEOUT = 360;
