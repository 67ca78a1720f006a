/**
 * Index the agent's connection summary (lib/conn/summary ConnSummary) by the
 * same service and destination ids the rest of the console uses
 * (lib/agent/ids), so histogram rows line up with the service list.
 */
import type { ConnServiceKey, ConnSummary } from '@/lib/conn/summary';
import { formatHostPort } from '@/lib/net/ip';

export interface SummaryIndex {
  total: number;
  templates: number;
  byState: Record<string, number>;
  byService: Map<string, Record<string, number>>;
  /** keyed `${serviceId} ${destinationId}` */
  byDestination: Map<string, Record<string, number>>;
}

export function connServiceId(k: ConnServiceKey): string {
  return k.kind === 'fwmark' ? `fwmark:${k.family}:${k.fwmark}` : `${k.protocol}:${formatHostPort(k.family, k.address, k.port)}`;
}

export function indexSummary(s: ConnSummary): SummaryIndex {
  const byService = new Map<string, Record<string, number>>();
  for (const x of s.services) byService.set(connServiceId(x.service), x.byState);
  const byDestination = new Map<string, Record<string, number>>();
  for (const d of s.destinations) byDestination.set(`${connServiceId(d.service)} ${formatHostPort(d.family, d.address, d.port)}`, d.byState);
  return { total: s.connections, templates: s.templates, byState: s.byState, byService, byDestination };
}
