import { describe, expect, it } from 'vitest';
import type { TableChange, TableChangeEvent } from '@/lib/agent/events';
import { DEFAULT_FLAGS, ZERO_STATS, type ServiceEntry, type ServiceKey } from '@/lib/ipvs/model';
import { ChangeFeed } from './change-feed';
import { ServedTable } from './served-table';

const key = (i: number): ServiceKey => ({ kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.0.0.${i}`, port: 80 });
const entry = (i: number): ServiceEntry => ({
  key: key(i), scheduler: 'rr', flags: DEFAULT_FLAGS, timeout: 0, netmask: '255.255.255.255', pe: null, stats: ZERO_STATS, destinations: [],
});
const added = (i: number): TableChange => ({ type: 'service_added', service: { ...entry(i), destinations: [] } });
const removed = (i: number): TableChange => ({ type: 'service_removed', service: { ...entry(i), destinations: [] } });

/** A feed fed samples 1..n, sample k adding service k; follow() reads it until `take` events came. */
function feedOf(n: number, keep: number) {
  const feed = new ChangeFeed(keep);
  let seq = 0;
  const table: ServiceEntry[] = [];
  const sample = (changes: TableChange[]) => {
    seq++;
    feed.record(seq, changes, new ServedTable(seq * 1000, [...table], new Map()));
  };
  for (let k = 1; k <= n; k++) {
    table.push(entry(k));
    sample([added(k)]);
  }
  const read = async (lastEventId: string | null, take: number): Promise<{ id: string; event: TableChangeEvent }[]> => {
    const got: { id: string; event: TableChangeEvent }[] = [];
    let open = true;
    for await (const e of feed.follow(lastEventId, () => seq, async () => { open = false; }, () => open)) {
      got.push(e);
      if (got.length === take) break;
    }
    return got;
  };
  return { feed, sample, read, table, seq: () => seq };
}

describe('ChangeFeed', () => {
  it('gives a subscriber resuming from an event still held what it missed, in order, with the services as served', async () => {
    const { feed, read } = feedOf(5, 10);
    const got = await read(feed.id(3), 10);
    expect(got.map((e) => e.id)).toEqual([feed.id(4), feed.id(5)]);
    expect(got.map((e) => e.event.services.map((s) => s.key))).toEqual([[key(4)], [key(5)]]);
    expect(got[1]!.event).toMatchObject({ seq: 5, at: 5000, resync: false, removed: [] });
    expect(got[1]!.event.services[0]!.readAt).toEqual({ config: 5000, stats: 5000 });
  });

  it('tells a subscriber resuming from an event no longer held, another epoch\'s or a piece\'s id to resync', async () => {
    const { feed, read } = feedOf(5, 2);
    for (const id of [feed.id(2), 'old-epoch:4', feed.pieceId(4, 0), 'nonsense']) {
      const [first] = await read(id, 1);
      expect(first!.event).toMatchObject({ seq: 5, resync: true, changes: [] });
    }
    // the oldest still held: no resync
    expect((await read(feed.id(3), 10)).map((e) => e.event.seq)).toEqual([4, 5]);
  });

  it('gives a new subscriber only what comes after it joined', async () => {
    const { feed, sample, table, seq } = feedOf(3, 10);
    const got: number[] = [];
    let waits = 0;
    // the first wait sees one more sample; the second ends the subscription
    const next = async () => {
      if (waits++ === 0) {
        table.push(entry(9));
        sample([added(9)]);
      }
    };
    for await (const e of feed.follow(null, seq, next, () => waits < 2)) got.push(e.event.seq);
    expect(got).toEqual([4]);
  });

  it('names a removed service in removed, not in services', async () => {
    const { feed, read, sample, table } = feedOf(3, 10);
    table.splice(0, 1);
    sample([removed(1)]);
    sample([]);
    const got = await read(feed.id(3), 10);
    expect(got).toHaveLength(1);
    expect(got[0]!.event).toMatchObject({ seq: 4, services: [], removed: [key(1)] });
  });
});
