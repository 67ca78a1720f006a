/**
 * The persistence lens: the persistence templates of a client (address or
 * CIDR) or of a service, the real server each points at and its time left,
 * and per real server a histogram of when its templates expire. Fed one
 * record at a time from a walk of /proc/net/ip_vs_conn (templates only).
 */
import { compileConnFilter, ConnFilterError, type ConnFilter } from './summary';
import { formatU32IPv4, recordToEntry, type ConnEntry, type ConnRecord } from './parse';

/** Upper bounds (seconds) of the expiry histogram's bins; the last bin holds everything longer. */
export const LENS_BINS = [10, 30, 60, 120, 300, 900, 1800, 3600] as const;
export const MAX_LENS_ENTRIES = 1000;

export interface LensRequest {
  filter?: Omit<ConnFilter, 'template' | 'state'>;
  /** entries returned, soonest to expire first (1..MAX_LENS_ENTRIES) */
  limit?: number;
}

export interface LensDestination {
  /** "addr:port" of the real server */
  destination: string;
  templates: number;
  /** templates per bin: counts[i] expire within LENS_BINS[i] s (and after the previous bin); the last count is the rest */
  counts: number[];
  /** the longest time left of its templates, s: when the last one goes */
  lastExpires: number;
}

export interface LensResult {
  total: number;
  entries: ConnEntry[];
  destinations: LensDestination[];
  malformed: number;
}

export class LensCollector {
  private readonly match: (r: ConnRecord) => boolean;
  private readonly limit: number;
  private total = 0;
  private kept: ConnEntry[] = [];
  private readonly dests = new Map<string, LensDestination>();

  constructor(req: LensRequest = {}) {
    const limit = req.limit ?? 200;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LENS_ENTRIES) throw new ConnFilterError('limit', `${limit} must be an integer in 1..${MAX_LENS_ENTRIES}`);
    this.limit = limit;
    this.match = compileConnFilter({ ...req.filter, template: true });
  }

  readonly add = (r: ConnRecord): void => {
    if (!this.match(r)) return;
    this.total++;
    const key = r.destFamily === 'inet' ? `${formatU32IPv4(r.dest4)}:${r.destPort}` : `[${r.dest6}]:${r.destPort}`;
    let d = this.dests.get(key);
    if (!d) this.dests.set(key, (d = { destination: key, templates: 0, counts: new Array<number>(LENS_BINS.length + 1).fill(0), lastExpires: 0 }));
    d.templates++;
    let bin = LENS_BINS.findIndex((b) => r.expires <= b);
    if (bin < 0) bin = LENS_BINS.length;
    d.counts[bin]!++;
    if (r.expires > d.lastExpires) d.lastExpires = r.expires;
    // keep the soonest to expire: trim to the limit now and then, not on every line
    this.kept.push(recordToEntry(r));
    if (this.kept.length >= 2 * this.limit) this.trim();
  };

  private trim(): void {
    this.kept.sort((a, b) => a.expires - b.expires || a.clientAddr.localeCompare(b.clientAddr));
    this.kept.length = Math.min(this.kept.length, this.limit);
  }

  result(malformed = 0): LensResult {
    this.trim();
    const destinations = [...this.dests.values()].sort((a, b) => b.templates - a.templates || a.destination.localeCompare(b.destination));
    return { total: this.total, entries: this.kept, destinations, malformed };
  }
}
