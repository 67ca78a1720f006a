/**
 * Index the agent's connection summary (lib/conn/summary ConnSummary) by the
 * same service and destination ids the rest of the console uses
 * (lib/ipvs/ids), so histogram rows line up with the service list.
 */
import type { ConnSummary } from '@/lib/conn/summary';
import { destinationId, serviceId } from '@/lib/ipvs/ids';

export interface SummaryIndex {
  total: number;
  templates: number;
  byState: Record<string, number>;
  byService: Map<string, Record<string, number>>;
  /** keyed `${serviceId} ${destinationId}` */
  byDestination: Map<string, Record<string, number>>;
}

export function indexSummary(s: ConnSummary): SummaryIndex {
  const byService = new Map<string, Record<string, number>>();
  for (const x of s.services) byService.set(serviceId(x.service), x.byState);
  const byDestination = new Map<string, Record<string, number>>();
  for (const d of s.destinations) byDestination.set(`${serviceId(d.service)} ${destinationId(d)}`, d.byState);
  return { total: s.connections, templates: s.templates, byState: s.byState, byService, byDestination };
}
