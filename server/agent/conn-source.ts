/**
 * What the agent needs from the connection-table reader (server/conn), kept
 * narrow so the reader can change without touching the routers.
 */
import type { AddressFamily, Protocol } from '@/lib/ipvs/model';
import type { ConnSummaryTick } from '@/lib/agent/events';

export interface ConnEntry {
  family: AddressFamily;
  protocol: Protocol;
  clientAddress: string;
  clientPort: number;
  virtualAddress: string;
  virtualPort: number;
  destinationAddress: string;
  destinationPort: number;
  state: string;
  /** seconds until the entry expires */
  expires: number;
  /** persistence template (client port 0 entries with the TEMPLATE flag) */
  template: boolean;
}

export interface ConnFilter {
  /** service id (lib/agent/ids) */
  serviceId?: string;
  /** destination id within the service */
  destinationId?: string;
  state?: string;
  /** address or CIDR */
  client?: string;
  protocol?: Protocol;
}

export interface ConnPage {
  entries: ConnEntry[];
  /** cursor for the next page, null at the end */
  nextCursor: number | null;
  /** entries matching the filter in the whole table */
  matched: number;
}

export interface ConnSource {
  list(filter: ConnFilter, cursor: number, limit: number, signal?: AbortSignal): Promise<ConnPage>;
  summary(signal?: AbortSignal): Promise<Omit<ConnSummaryTick, 'seq' | 'at'>>;
}
