/**
 * The table as the API serves it (services.list, services.get, services.listCompact), for one sample of
 * the hub (hub.ts): each service stamped with when its parts were read, the same by id, and the whole in
 * compact form (lib/agent/table-compact.ts). Each view is built on first request and kept for the
 * sample's life, so every caller between two samples gets the same objects, encoded once whoever asks.
 */
import type { ServedService } from '@/lib/agent/events';
import { encodeCompactTable, type CompactTable } from '@/lib/agent/table-compact';
import { keptServiceId, serviceId } from '@/lib/ipvs/ids';
import type { ServiceEntry, ServiceKey } from '@/lib/ipvs/model';

const entriesById = new WeakMap<readonly ServiceEntry[], Map<string, ServiceEntry>>();

export class ServedTable {
  private list?: ServedService[];
  private ids?: Map<string, ServedService>;

  /**
   * `entries` read at `at`; `statsAt`: by service id, services whose real servers' counters were last read
   * before `at`, and when. `compact`: this table's compact form, when already known.
   */
  constructor(
    readonly at: number,
    readonly entries: readonly ServiceEntry[],
    readonly statsAt: ReadonlyMap<string, number>,
    private compactForm?: CompactTable,
  ) {}

  /**
   * The next sample's table. With the same rows as this one (the same entries, as the sampler keeps its list
   * when it read no new dump, and the same services behind, as rows name the sample's own time as 0) it
   * keeps this one's compact form, if encoded: only the time is new.
   */
  next(at: number, entries: readonly ServiceEntry[], statsAt: ReadonlyMap<string, number>): ServedTable {
    const same = this.compactForm && entries === this.entries && statsAt === this.statsAt;
    return new ServedTable(at, entries, statsAt, same ? { ...this.compactForm!, at } : undefined);
  }

  /** Every service as served. */
  services(): ServedService[] {
    return (this.list ??= this.entries.map((e) => this.served(e)));
  }

  /** The service with that key as served, if the table has it. */
  get(key: ServiceKey): ServedService | undefined {
    return this.byId().get(serviceId(key));
  }

  /** The services as served, by id. */
  byId(): ReadonlyMap<string, ServedService> {
    if (!this.ids) {
      this.ids = new Map();
      for (const e of this.services()) this.ids.set(keptServiceId(e), e);
    }
    return this.ids;
  }

  /** The entry with that service id, if the table has it: for a look-up, without making every service's served form. */
  entry(id: string): ServiceEntry | undefined {
    let m = entriesById.get(this.entries);
    if (!m) {
      m = new Map(this.entries.map((e) => [keptServiceId(e), e]));
      // the sampler hands out the same entries array while nothing changed: one map for every table of it
      entriesById.set(this.entries, m);
    }
    return m.get(id);
  }

  /** The table in compact form: the same information, a twentieth of the JSON at 10,000 × 4. */
  compact(): CompactTable {
    return (this.compactForm ??= encodeCompactTable(this.at, this.entries, (e) => this.statsAt.get(keptServiceId(e)) ?? this.at));
  }

  /**
   * One of this table's entries as served (a change event's services), built anew: its configuration read at
   * `at`, its real servers' counters when statsAt says.
   */
  served(e: ServiceEntry): ServedService {
    return { ...e, readAt: { config: this.at, stats: this.statsAt.get(keptServiceId(e)) ?? this.at } };
  }
}
