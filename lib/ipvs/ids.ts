/**
 * The one identity of each IPVS object as a string, used as map keys,
 * Prometheus labels, URLs (`/d/<director>/s/<serviceId>`) and in tick
 * payloads: "tcp:10.0.0.1:80", "tcp:[2001:db8::1]:80", "fwmark:inet:7";
 * real servers "10.1.0.2:80" within their service. The format is part of
 * URLs and the wire, so it does not change. Addresses are compared as the
 * canonical text the schemas and the codec produce. Human labels for
 * messages are in format.ts.
 */
import type { AnyServiceKey, DestinationKey, ServiceKey } from './model';
import { formatHostPort } from '../net/ip';

export function serviceId(key: AnyServiceKey): string {
  return key.kind === 'fwmark'
    ? `fwmark:${key.family}:${key.fwmark}`
    : `${key.protocol}:${formatHostPort(key.family, key.address, key.port)}`;
}

export function destinationId(key: DestinationKey): string {
  return formatHostPort(key.family, key.address, key.port);
}

const keptServiceIds = new WeakMap<object, string>();
const keptDestinationIds = new WeakMap<object, string>();

/**
 * serviceId of an object read from the kernel and never changed afterwards
 * (the agent's samplers reuse unchanged objects from tick to tick): built
 * once per object instead of once per tick. Not for objects that are edited.
 */
export function keptServiceId(entry: { key: ServiceKey }): string {
  let id = keptServiceIds.get(entry);
  if (id === undefined) keptServiceIds.set(entry, (id = serviceId(entry.key)));
  return id;
}

/** destinationId of an object read from the kernel and never changed afterwards (see keptServiceId). */
export function keptDestinationId(d: DestinationKey): string {
  let id = keptDestinationIds.get(d);
  if (id === undefined) keptDestinationIds.set(d, (id = destinationId(d)));
  return id;
}

/** serviceId(a) === serviceId(b), without building either string. */
export function sameServiceKey(a: ServiceKey, b: ServiceKey): boolean {
  if (a.kind === 'fwmark') return b.kind === 'fwmark' && a.fwmark === b.fwmark && a.family === b.family;
  return b.kind === 'addr' && a.port === b.port && a.address === b.address && a.protocol === b.protocol && a.family === b.family;
}

/** destinationId(a) === destinationId(b), without building either string. */
export function sameDestinationKey(a: DestinationKey, b: DestinationKey): boolean {
  return a.port === b.port && a.address === b.address && a.family === b.family;
}
