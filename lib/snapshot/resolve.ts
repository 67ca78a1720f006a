/**
 * Names in snapshots (`10.0.0.1:http`, `web1:80`), as `ipvsadm -S` without
 * `-n` writes them. lib/ stays pure: the caller injects the lookups
 * (server/snapshot/resolver.ts does /etc/services and the system resolver).
 */
import type { AddressFamily, Protocol } from '../ipvs/model';

export interface NameResolver {
  /** An address literal of `family` for a host name, or null when it has none. */
  resolveHost(name: string, family: AddressFamily): Promise<string | null>;
  /** The port of a service name for a protocol (`http`/tcp → 80), or null. */
  resolveService(name: string, protocol: Protocol): Promise<number | null>;
}

/** Refuses every name: for numeric-only input (`ipvsadm -Sn`) and tests. */
export const numericOnly: NameResolver = {
  resolveHost: async () => null,
  resolveService: async () => null,
};

/** Looks each name up once per parse, however many lines repeat it. */
export function memoize(r: NameResolver): NameResolver {
  const hosts = new Map<string, Promise<string | null>>();
  const services = new Map<string, Promise<number | null>>();
  const safe = <T>(p: Promise<T | null>): Promise<T | null> => p.catch(() => null);
  return {
    resolveHost(name, family) {
      const k = `${family}/${name}`;
      let p = hosts.get(k);
      if (!p) hosts.set(k, (p = safe(r.resolveHost(name, family))));
      return p;
    },
    resolveService(name, protocol) {
      const k = `${protocol}/${name}`;
      let p = services.get(k);
      if (!p) services.set(k, (p = safe(r.resolveService(name, protocol))));
      return p;
    },
  };
}

/**
 * Thrown by NameTable when a line needs a name not looked up yet: a "come
 * back later", not an Error (nothing to report, and no stack to capture for
 * every line that waits).
 */
export class NameNeeded {
  private readonly brand = 'NameNeeded';
}
const NAME_NEEDED = new NameNeeded();

/**
 * The names one parse has looked up, readable without awaiting. The parser
 * reads every line synchronously; a line that names something not looked up
 * yet throws NameNeeded and is read again after lookupPending(). So numeric
 * lines (all of `ipvsadm -Sn` output) never create a promise, and a name is
 * looked up only when a line reaches it, in the order ipvsadm would, as when
 * each line awaited its lookups: a line whose host does not resolve never
 * asks for its port name.
 */
export class NameTable {
  private readonly r: NameResolver;
  private readonly hosts = new Map<string, string | null>();
  private readonly services = new Map<string, number | null>();
  private pendingHosts = new Map<string, { name: string; family: AddressFamily }>();
  private pendingServices = new Map<string, { name: string; protocol: Protocol }>();

  constructor(r: NameResolver) {
    this.r = memoize(r);
  }

  /** The resolver's answer for a host name; throws NameNeeded when it has not been asked yet. */
  host(name: string, family: AddressFamily): string | null {
    const k = `${family}/${name}`;
    // has(), not get() !== undefined: a resolver answering undefined must not make the caller retry forever
    if (this.hosts.has(k)) return this.hosts.get(k)!;
    this.pendingHosts.set(k, { name, family });
    throw NAME_NEEDED;
  }

  /** The resolver's answer for a service name; throws NameNeeded when it has not been asked yet. */
  service(name: string, protocol: Protocol): number | null {
    const k = `${protocol}/${name}`;
    if (this.services.has(k)) return this.services.get(k)!;
    this.pendingServices.set(k, { name, protocol });
    throw NAME_NEEDED;
  }

  /** Looks up, all at once, every name asked for since the last call. */
  async lookupPending(): Promise<void> {
    const hosts = this.pendingHosts, services = this.pendingServices;
    this.pendingHosts = new Map();
    this.pendingServices = new Map();
    await Promise.all([
      ...[...hosts].map(async ([k, q]) => { this.hosts.set(k, await this.r.resolveHost(q.name, q.family)); }),
      ...[...services].map(async ([k, q]) => { this.services.set(k, await this.r.resolveService(q.name, q.protocol)); }),
    ]);
  }
}
