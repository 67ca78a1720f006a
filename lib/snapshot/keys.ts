/** How ipvsadm's command lines name services and real servers, used in snapshots and in messages about them. */
import type { DestinationKey, Protocol, ServiceKey } from '../ipvs/model';
import { formatHostPort } from '../net/ip';

export const SERVICE_OPTION: Record<Protocol, string> = { tcp: '-t', udp: '-u', sctp: '--sctp-service' };

/** How ipvsadm -S names a service: `-t 10.0.0.1:80`, `-f 7 -6`. fwmark ≥ 2^31 prints negative, as ipvsadm's %d does. */
export function serviceArg(key: ServiceKey): string {
  if (key.kind === 'fwmark') return `-f ${key.fwmark | 0}${key.family === 'inet6' ? ' -6' : ''}`;
  return `${SERVICE_OPTION[key.protocol]} ${formatHostPort(key.family, key.address, key.port)}`;
}

export function destinationArg(key: DestinationKey): string {
  return formatHostPort(key.family, key.address, key.port);
}
