/**
 * The connection table as the doctor needs it, from one walk of
 * /proc/net/ip_vs_conn: entries per state per real server (lib/conn/summary.ts)
 * and, per service, how many client addresses send its connections. Memory
 * stays bounded: at most MAX_CLIENTS addresses are remembered per service.
 */
import type { ConnRecord } from '../conn/parse';
import { ConnSummarizer, serviceKeyOf } from '../conn/summary';
import { formatServiceKey } from '../ipvs/format';
import type { DoctorEvidence, EvidenceServiceClients } from './evidence';

export const MAX_CLIENTS = 64;
/** services whose clients are counted (the rest only get state counts) */
export const MAX_SERVICES = 1000;

interface ClientAcc { label: string; connections: number; clients: Set<number | string>; capped: boolean; byDest: Map<string, number> }

export class DoctorConnAccumulator {
  private readonly summary = new ConnSummarizer();
  private readonly services = new Map<string, ClientAcc>();

  readonly add = (r: ConnRecord): void => {
    this.summary.add(r);
    if (r.template) return;
    const label = formatServiceKey(serviceKeyOf(r));
    let s = this.services.get(label);
    if (!s) {
      if (this.services.size >= MAX_SERVICES) return;
      s = { label, connections: 0, clients: new Set(), capped: false, byDest: new Map() };
      this.services.set(label, s);
    }
    s.connections++;
    const client = r.family === 'inet' ? r.client4 : r.client6;
    if (!s.clients.has(client)) {
      if (s.clients.size < MAX_CLIENTS) s.clients.add(client);
      else s.capped = true;
    }
    const dest = r.destFamily === 'inet'
      ? `${r.dest4 >>> 24}.${(r.dest4 >>> 16) & 255}.${(r.dest4 >>> 8) & 255}.${r.dest4 & 255}:${r.destPort}`
      : `[${r.dest6}]:${r.destPort}`;
    s.byDest.set(dest, (s.byDest.get(dest) ?? 0) + 1);
  };

  result(): NonNullable<DoctorEvidence['conns']> {
    const sum = this.summary.result();
    const services: EvidenceServiceClients[] = [...this.services.values()].map((s) => ({
      service: s.label, connections: s.connections, clients: s.clients.size, clientsCapped: s.capped,
      byDestination: Object.fromEntries(s.byDest),
    }));
    return {
      entries: sum.connections,
      templates: sum.templates,
      destinations: sum.destinations.map((d) => ({
        service: d.serviceLabel, address: d.address, port: d.port, connections: d.connections, byState: d.byState,
      })),
      services,
    };
  }
}
