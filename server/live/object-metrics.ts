/**
 * The per-service and per-real-server families of /metrics, written in the
 * Prometheus text format straight from the hub's entries.
 *
 * Why not prom-client's labelled metrics: each scrape reset and set every
 * series through its label hashing and then formatted them again, about
 * 41,000 labelled operations at 1,000 × 4. In the lab kernel one scrape held
 * the event loop for hundreds of milliseconds and left tens of megabytes of
 * garbage, so a Prometheus scraping every 15 s would have cost more than the
 * agent's whole tick. The hub hands out the same entry object while nothing
 * about a service changed, so each entry's lines are written once and kept
 * (by object identity) until the service changes. The counters mirror the
 * kernel's: a ZERO shows to Prometheus as a counter reset.
 */
import { destinationId, serviceId } from '@/lib/ipvs/ids';
import type { ServiceEntry } from '@/lib/ipvs/model';

interface Family { name: string; help: string; type: 'counter' | 'gauge' }

/** In output order; each entry's text holds one chunk per family, in this order. */
export const OBJECT_FAMILIES: readonly Family[] = [
  { name: 'director_ipvs_service_connections_total', help: 'Connections scheduled by the virtual service', type: 'counter' },
  { name: 'director_ipvs_service_packets_total', help: 'Packets through the virtual service', type: 'counter' },
  { name: 'director_ipvs_service_bytes_total', help: 'Bytes through the virtual service', type: 'counter' },
  { name: 'director_ipvs_destination_connections_total', help: 'Connections scheduled to the real server', type: 'counter' },
  { name: 'director_ipvs_destination_packets_total', help: 'Packets to and from the real server', type: 'counter' },
  { name: 'director_ipvs_destination_bytes_total', help: 'Bytes to and from the real server', type: 'counter' },
  { name: 'director_ipvs_destination_active_connections', help: 'ActiveConn of the real server', type: 'gauge' },
  { name: 'director_ipvs_destination_inactive_connections', help: 'InActConn of the real server', type: 'gauge' },
  { name: 'director_ipvs_destination_persistent_connections', help: 'Persistence templates pointing at the real server', type: 'gauge' },
  { name: 'director_ipvs_destination_weight', help: 'Weight of the real server (0 = quiesced)', type: 'gauge' },
];

/** A label value as the text format wants it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

const F = OBJECT_FAMILIES.map((f) => f.name);

function entryChunks(e: ServiceEntry): string[] {
  const svc = `service="${escapeLabelValue(serviceId(e.key))}"`;
  const s = e.stats;
  const out = [
    `${F[0]}{${svc}} ${s.conns}\n`,
    `${F[1]}{${svc},direction="in"} ${s.inPkts}\n${F[1]}{${svc},direction="out"} ${s.outPkts}\n`,
    `${F[2]}{${svc},direction="in"} ${s.inBytes}\n${F[2]}{${svc},direction="out"} ${s.outBytes}\n`,
    '', '', '', '', '', '', '',
  ];
  for (const d of e.destinations) {
    const l = `${svc},destination="${escapeLabelValue(destinationId(d))}"`;
    const t = d.stats;
    out[3] += `${F[3]}{${l}} ${t.conns}\n`;
    out[4] += `${F[4]}{${l},direction="in"} ${t.inPkts}\n${F[4]}{${l},direction="out"} ${t.outPkts}\n`;
    out[5] += `${F[5]}{${l},direction="in"} ${t.inBytes}\n${F[5]}{${l},direction="out"} ${t.outBytes}\n`;
    out[6] += `${F[6]}{${l}} ${d.activeConns}\n`;
    out[7] += `${F[7]}{${l}} ${d.inactiveConns}\n`;
    out[8] += `${F[8]}{${l}} ${d.persistentConns}\n`;
    out[9] += `${F[9]}{${l}} ${d.weight}\n`;
  }
  return out;
}

const written = new WeakMap<ServiceEntry, string[]>();

/** About this much text per piece: small enough for V8's young generation, whose pages are already mapped. */
const PIECE_CHARS = 64 * 1024;

/**
 * The families' text for these entries, in pieces of about 64 kB to be written one after another. One
 * string of the whole text (4.5 MB at 1,000 × 4) cost more than writing it: each copy of it (the join, the
 * response's byte count and encoding) touched about 1,100 fresh pages, and in user-mode Linux each first
 * touch is a trap. Series are counted as one per service and one per real server; a service whose series
 * would pass `maxSeries` is left out with the rest (`truncated`), never cut in half.
 */
export function renderObjectMetrics(entries: readonly ServiceEntry[], maxSeries: number): { pieces: string[]; truncated: boolean } {
  const perFamily: string[][] = OBJECT_FAMILIES.map(() => []);
  let series = 0;
  let truncated = false;
  for (const e of entries) {
    series += 1 + e.destinations.length;
    if (series > maxSeries) { truncated = true; break; }
    let chunks = written.get(e);
    if (!chunks) written.set(e, (chunks = entryChunks(e)));
    for (let f = 0; f < chunks.length; f++) if (chunks[f]) perFamily[f]!.push(chunks[f]!);
  }
  const pieces: string[] = [];
  let batch: string[] = [];
  let size = 0;
  const add = (s: string) => {
    batch.push(s);
    size += s.length;
    if (size >= PIECE_CHARS) {
      pieces.push(batch.join(''));
      batch = [];
      size = 0;
    }
  };
  OBJECT_FAMILIES.forEach((f, i) => {
    add(`${i ? '\n' : ''}# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`);
    for (const c of perFamily[i]!) add(c);
  });
  if (batch.length) pieces.push(batch.join(''));
  return { pieces, truncated };
}
