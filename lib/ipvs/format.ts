/**
 * The one human label of each IPVS object, used in logs, error messages and
 * the console. They follow ipvsadm's labels (`TCP  10.0.0.1:80`, `FWM  9 IPv6`)
 * with a single space, so they read well inside a sentence. Identities for
 * maps and URLs are in ids.ts.
 */
import type { AnyServiceKey, DestinationKey, ServiceSpec } from './model';
import { formatHostPort } from '../net/ip';

/** A service label's two parts, for tables that show them in two columns: `TCP` and `192.168.150.100:80`, `FWM` and `9 IPv6`. */
export function serviceKeyParts(key: AnyServiceKey): [kind: string, address: string] {
  if (key.kind === 'fwmark') return ['FWM', `${key.fwmark}${key.family === 'inet6' ? ' IPv6' : ''}`];
  return [key.protocol.toUpperCase(), formatHostPort(key.family, key.address, key.port)];
}

/** `TCP 192.168.150.100:80`, `UDP [2001:db8::1]:53`, `SCTP 10.0.0.3:3868`, `FWM 7`, `FWM 9 IPv6` */
export function formatServiceKey(key: AnyServiceKey): string {
  const [kind, address] = serviceKeyParts(key);
  return `${kind} ${address}`;
}

/** `TCP 192.168.150.100:80 (rr)` */
export function formatService(spec: Pick<ServiceSpec, 'key' | 'scheduler'>): string {
  return `${formatServiceKey(spec.key)} (${spec.scheduler})`;
}

/** `192.168.150.12:80`, `[2001:db8::a]:8080` */
export function formatDestination(dest: DestinationKey): string {
  return formatHostPort(dest.family, dest.address, dest.port);
}
