import type {
  DestinationKey, DestinationSpec, DestinationState, IpvsInfo, ServiceEntry, ServiceKey,
  ServiceSpec, ServiceState, SyncDaemon, SyncDaemonConfig, SyncState, Timeouts,
} from './model';

/** numbers per service in PlainServices.cols */
export const PLAIN_SERVICE_COLS = 4;

/**
 * Services as numbers, as /proc/net/ip_vs gives them (lib/proc/ip-vs.ts): service i, cols[i * PLAIN_SERVICE_COLS ...],
 * is the IPv4 service of protocol cols[i * 4] (its IPPROTO number; 0: not known), address cols[i * 4 + 1]
 * (a host-order u32, stored as int32) and port cols[i * 4 + 2], scheduler schedulers[cols[i * 4 + 3]], with no
 * flags, persistence engine or timeout and the full netmask.
 */
export interface PlainServices {
  count: number;
  cols: Int32Array;
  schedulers: readonly string[];
}

/**
 * The one narrow interface through which Director reaches a kernel's IPVS
 * table. The netlink client (server/ipvs) implements it against the real
 * kernel; a stateful in-memory fake implements it for fast router/UI tests.
 * One contract suite runs against both.
 *
 * All methods reject with IpvsError.
 */
export interface IpvsBackend {
  info(): Promise<IpvsInfo>;

  listServices(): Promise<ServiceState[]>;
  /** listServices without the counters, in the same order: for readers that print only the configuration. */
  listServiceSpecs(): Promise<ServiceSpec[]>;
  /**
   * listServiceSpecs for a reader that knows most services already (from /proc/net/ip_vs): undefined for each
   * service that is exactly what `known` says of the one at its position (see PlainServices), a spec for
   * every other one, so that a listing of 10,000 plain services decodes none of them.
   */
  listServiceSpecsBeyond(known: PlainServices): Promise<(ServiceSpec | undefined)[]>;
  getService(key: ServiceKey): Promise<ServiceState>;
  /** Destinations of one service (empty for a missing service, as the kernel does). */
  listDestinations(key: ServiceKey): Promise<DestinationState[]>;
  /**
   * The whole table: every service with its destinations, in kernel order. With `each`, every entry is handed
   * to it in that order as soon as it and those before it are read, none is kept, and the result is empty: a
   * caller that prints the table never holds all of it (10,000 services with counters, 40,000 real servers).
   */
  dump(each?: (entry: ServiceEntry) => void): Promise<ServiceEntry[]>;

  addService(spec: ServiceSpec): Promise<void>;
  /** Replace a service's configuration; the key cannot change. */
  updateService(spec: ServiceSpec): Promise<void>;
  removeService(key: ServiceKey): Promise<void>;

  addDestination(service: ServiceKey, dest: DestinationSpec): Promise<void>;
  updateDestination(service: ServiceKey, dest: DestinationSpec): Promise<void>;
  removeDestination(service: ServiceKey, dest: DestinationKey): Promise<void>;

  flush(): Promise<void>;
  /** Zero counters of one service, or of everything when no key is given. */
  zero(key?: ServiceKey): Promise<void>;

  getTimeouts(): Promise<Timeouts>;
  /** 0 leaves a value unchanged, as the kernel does. */
  setTimeouts(t: Partial<Timeouts>): Promise<void>;

  listDaemons(): Promise<SyncDaemon[]>;
  startDaemon(cfg: SyncDaemonConfig): Promise<void>;
  stopDaemon(state: SyncState): Promise<void>;

  close(): void;
}
