/**
 * Writing a snapshot's JSON form (lib/snapshot/json.ts reads and validates it). Kept apart from the
 * zod schemas so `director save` does not load them (about 1 MB of code with re2js) to print a table.
 */
import type { ServiceEntry, ServiceRules } from '../ipvs/model';
import type { HealthServiceConfig } from '../schemas/health';

export const SNAPSHOT_VERSION = 1;

/** A snapshot as written; json.ts's schema (Snapshot) is what a read one is held to. */
export interface WrittenSnapshot {
  version: typeof SNAPSHOT_VERSION;
  createdAt: string;
  host: string;
  ipvs: { version: string };
  services: ServiceRules[];
  health?: HealthServiceConfig[];
}

/** Only the configuration: counters and connection counts stay out of a snapshot. */
export function toRules(entries: readonly (ServiceEntry | ServiceRules)[]): ServiceRules[] {
  return entries.map((s) => ({
    key: s.key, scheduler: s.scheduler, flags: { ...s.flags }, timeout: s.timeout, netmask: s.netmask, pe: s.pe,
    destinations: s.destinations.map((d) => ({
      family: d.family, address: d.address, port: d.port, forward: d.forward, weight: d.weight,
      upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold, tunnel: { ...d.tunnel },
    })),
  }));
}

export function makeSnapshot(
  services: readonly (ServiceEntry | ServiceRules)[], meta: { host: string; ipvsVersion: string; now?: Date; health?: HealthServiceConfig[] },
): WrittenSnapshot {
  return {
    version: SNAPSHOT_VERSION,
    createdAt: (meta.now ?? new Date()).toISOString(),
    host: meta.host,
    ipvs: { version: meta.ipvsVersion },
    services: toRules(services),
    ...(meta.health && meta.health.length > 0 ? { health: meta.health } : {}),
  };
}

export function stringifySnapshot(s: WrittenSnapshot): string {
  return JSON.stringify(s, null, 2) + '\n';
}
