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
