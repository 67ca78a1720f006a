import type { DestinationKey, ServiceKey } from '../ipvs/model';
import { formatHostPort } from '../net/ip';

/**
 * Stable string identities for services and destinations, used as map keys,
 * Prometheus labels and in tick payloads ("tcp:10.0.0.1:80", "fwmark:inet:7",
 * "tcp:[2001:db8::1]:80"; destinations "10.1.0.2:80" within their service).
 */
export function serviceId(key: ServiceKey): string {
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

/** Human text naming a service in messages: "TCP 10.0.0.1:80", "FWM 7 (IPv6)". */
export function describeService(key: ServiceKey): string {
  return key.kind === 'fwmark'
    ? `FWM ${key.fwmark}${key.family === 'inet6' ? ' (IPv6)' : ''}`
    : `${key.protocol.toUpperCase()} ${formatHostPort(key.family, key.address, key.port)}`;
}

export function sameServiceKey(a: ServiceKey, b: ServiceKey): boolean {
  return serviceId(a) === serviceId(b);
}

export function sameDestinationKey(a: DestinationKey, b: DestinationKey): boolean {
  return a.family === b.family && a.address === b.address && a.port === b.port;
}
