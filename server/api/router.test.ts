import { TRPCError } from '@trpc/server';
import { isDeepStrictEqual } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PERSISTENCE_CAVEAT, type TableChangeEvent } from '@/lib/agent/events';
import { LIVE_FIELDS, LiveTable, type WireTick } from '@/lib/agent/live-wire';
import { decodeCompactTable } from '@/lib/agent/table-compact';
import { DEFAULT_FLAGS, type ServiceKey } from '@/lib/ipvs/model';
import { callerFor, makeDeps, OPERATOR, VIEWER } from './testing';
import type { AgentDeps } from './context';
import type { FakeIpvs } from '../ipvs/fake';

const VIP: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 };
const RS1 = { family: 'inet' as const, address: '10.0.0.1', port: 80 };
const RS2 = { family: 'inet' as const, address: '10.0.0.2', port: 80 };

async function failure(p: Promise<unknown>): Promise<TRPCError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e, 'expected the call to fail').toBeInstanceOf(TRPCError);
  return e as TRPCError;
}

/** The zod issues tRPC would send, reconstructed the way errorFormatter does. */
function issuePaths(e: TRPCError): string[] {
  const cause = e.cause as { issues?: { path: PropertyKey[] }[] } | undefined;
  return (cause?.issues ?? []).map((i) => i.path.map(String).join('.'));
}

/** A createCaller subscription yields tracked() envelopes: [id, data, marker]. */
function dataOf<T>(ev: unknown): T {
  expect(Array.isArray(ev), 'subscriptions yield tracked() envelopes').toBe(true);
  return (ev as [string, T])[1];
}

let deps: AgentDeps & { fake: FakeIpvs };
let op: ReturnType<typeof callerFor>;
let viewer: ReturnType<typeof callerFor>;

beforeEach(async () => {
  deps = await makeDeps();
  op = callerFor(deps, OPERATOR);
  viewer = callerFor(deps, VIEWER);
});
afterEach(() => deps.hub.close());

afterEach(() => { vi.useRealTimers(); });

describe('services', () => {
  it('creates a service with destinations and reads it back', async () => {
    await op.services.create({
      service: { key: VIP, scheduler: 'rr' },
      destinations: [{ ...RS1, forward: 'nat', weight: 2 }, RS2],
    });
    const got = await viewer.services.get({ key: VIP });
    expect(got.scheduler).toBe('rr');
    expect(got.netmask).toBe('255.255.255.255');
    expect(got.destinations.map((d) => [d.address, d.weight, d.forward]).sort()).toEqual([
      ['10.0.0.1', 2, 'nat'], ['10.0.0.2', 1, 'dr'],
    ]);
    expect((await viewer.services.list()).length).toBe(1);
  });

  it('rolls back a create whose destination the kernel refuses', async () => {
    // the same real server twice passes validation; the kernel refuses the second add
    const e = await failure(op.services.create({ service: { key: VIP }, destinations: [RS2, RS1, RS1] }));
    expect(e.code).toBe('CONFLICT');
    expect(deps.fake.calls.get('addDestination')).toBe(3);
    expect(await deps.fake.listServices()).toEqual([]);
  });

  it('maps duplicate and missing services to CONFLICT and NOT_FOUND with a message naming the service', async () => {
    await op.services.create({ service: { key: VIP } });
    const dup = await failure(op.services.create({ service: { key: VIP } }));
    expect(dup.code).toBe('CONFLICT');
    expect(dup.message).toContain('192.0.2.10');
    const missing = await failure(op.services.remove({ key: { ...VIP, port: 81 } }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toContain('192.0.2.10:81');
  });

  it('update changes only what the patch names', async () => {
    await op.services.create({
      service: { key: VIP, scheduler: 'sh', flags: { persistent: true, sched1: true }, timeout: 600, netmask: '255.255.255.0' },
    });
    await op.services.update({ key: VIP, patch: { scheduler: 'mh' } });
    const s = await deps.fake.getService(VIP);
    expect(s.scheduler).toBe('mh');
    expect(s.flags).toMatchObject({ persistent: true, sched1: true });
    expect(s.timeout).toBe(600);
    expect(s.netmask).toBe('255.255.255.0');
  });

  it('turning persistence on without a timeout uses ipvsadm\'s 360 s', async () => {
    await op.services.create({ service: { key: VIP } });
    await op.services.update({ key: VIP, patch: { flags: { persistent: true } } });
    expect((await deps.fake.getService(VIP)).timeout).toBe(360);
  });

  it('a patch that makes the merged service invalid is refused with the field named, and nothing changes', async () => {
    await op.services.create({ service: { key: VIP, flags: { persistent: true }, timeout: 60 } });
    const e2 = await failure(op.services.update({ key: VIP, patch: { netmask: '255.0.255.0' } }));
    expect(e2.code).toBe('BAD_REQUEST');
    expect(issuePaths(e2)).toContain('patch.netmask');
    expect((await deps.fake.getService(VIP)).netmask).toBe('255.255.255.255');
  });

  it('refuses invalid inputs with field-level issues before reaching the kernel', async () => {
    const before = deps.fake.calls.get('addService') ?? 0;
    const e = await failure(op.services.create({
      service: { key: { ...VIP, address: '192.0.2.300', port: 70000 }, scheduler: 'Bad Name' },
    } as never));
    expect(e.code).toBe('BAD_REQUEST');
    expect(issuePaths(e)).toEqual(expect.arrayContaining(['service.key.address', 'service.key.port', 'service.scheduler']));
    expect(deps.fake.calls.get('addService') ?? 0).toBe(before);
  });

  it('refuses an address of the wrong family for the key', async () => {
    const e = await failure(op.services.create({ service: { key: { ...VIP, address: '2001:db8::1' } } }));
    expect(issuePaths(e)).toContain('service.key.address');
  });
});

describe('one read path: services.list and services.get answer from the hub', () => {
  const VIP2: ServiceKey = { ...VIP, port: 443 } as ServiceKey;
  /** calls that read the kernel's table (GET_SERVICE, GET_DEST and whole dumps) */
  const reads = () => ['listServices', 'getService', 'listDestinations', 'dump'].reduce((n, m) => n + (deps.fake.calls.get(m) ?? 0), 0);

  it('serves the hub\'s sample, with no GET_DEST dump beyond the rotation where nothing moved, stamped with when its parts were read', async () => {
    await op.services.create({ service: { key: VIP }, destinations: [RS1, RS2] });
    await op.services.create({ service: { key: VIP2 }, destinations: [RS1] });
    const before = Date.now();
    const first = await viewer.services.list();
    expect(first).toHaveLength(2);
    // older than a tick (20 ms here) and nobody asked for a bound: served as read, no kernel read at all
    await new Promise((r) => setTimeout(r, 3 * deps.hub.tickMs));
    const m = reads();
    expect(await viewer.services.list()).toEqual(first);
    expect(reads()).toBe(m);
    // maxAgeMs: the hub looks again the cheap way (totals and /proc/net/ip_vs, which the fake emulates with
    // a dump); nothing moved, so the only GET_DEST dumps are the sampler's rotation
    const gets = () => deps.fake.calls.get('listDestinations') ?? 0;
    const n = gets();
    const again = await viewer.services.list({ maxAgeMs: deps.hub.tickMs });
    const one = await viewer.services.get({ key: VIP2, maxAgeMs: deps.hub.tickMs });
    expect(reads()).toBeGreaterThan(m);
    expect(gets() - n, 'no GET_DEST dump beyond the rotation\'s 2 where nothing moved').toBeLessThanOrEqual(2);
    const unstamped = (l: typeof first) => l.map(({ readAt: _readAt, ...rest }) => rest);
    expect(unstamped(again)).toEqual(unstamped(first));
    expect(one.destinations.map((d) => d.address)).toEqual(['10.0.0.1']);
    for (const s of again) {
      expect(s.readAt.config).toBeGreaterThanOrEqual(before);
      expect(s.readAt.stats).toBeGreaterThanOrEqual(before);
      expect(s.readAt.stats).toBeLessThanOrEqual(s.readAt.config);
    }
  });

  it('listCompact carries exactly what list serves, encoded once per sample, and sees a write', async () => {
    await op.services.create({ service: { key: VIP }, destinations: [RS1, RS2] });
    await op.services.create({ service: { key: { kind: 'fwmark', family: 'inet6', fwmark: 7 }, flags: { ...DEFAULT_FLAGS, persistent: true }, timeout: 300 }, destinations: [] });
    // list and listCompact from one sample: an idle sample between the two calls would restamp readAt, so take a pair that
    // brackets no sample (list, compact, list the same)
    for (let tries = 0; ; tries++) {
      const list = await viewer.services.list();
      const compact = await viewer.services.listCompact();
      const again = await viewer.services.listCompact();
      if (tries < 5 && (again !== compact || !isDeepStrictEqual(await viewer.services.list(), list))) continue;
      expect(decodeCompactTable(JSON.parse(JSON.stringify(compact)))).toEqual(list);
      expect(list).toHaveLength(2);
      // the same sample: the same encoding, not a second one
      expect(again).toBe(compact);
      break;
    }
    await op.services.update({ key: VIP, patch: { scheduler: 'sh' } });
    const after = decodeCompactTable(await viewer.services.listCompact());
    expect(after.find((s) => s.key.kind === 'addr')!.scheduler).toBe('sh');
  });

  it('a service another tool added shows on a list that asks for a table no older than a tick, with nobody subscribed', async () => {
    await op.services.create({ service: { key: VIP }, destinations: [RS1] });
    expect(await viewer.services.list()).toHaveLength(1);
    await deps.fake.addService({ key: VIP2, scheduler: 'rr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null });
    await new Promise((r) => setTimeout(r, 2 * deps.hub.tickMs));
    expect((await viewer.services.list({ maxAgeMs: deps.hub.tickMs })).map((s) => s.key.kind === 'addr' && s.key.port).sort()).toEqual([443, 80].sort());
  });

  it('rejects a maxAgeMs that is not a bounded whole number of ms, naming the field', async () => {
    for (const maxAgeMs of [-1, 1.5, 1e12]) expect(issuePaths(await failure(viewer.services.list({ maxAgeMs })))).toContain('maxAgeMs');
  });

  it('fresh: true reads every service\'s real servers once (one GET_DEST dump each) and refreshes the hub', async () => {
    await op.services.create({ service: { key: VIP }, destinations: [RS1, RS2] });
    await op.services.create({ service: { key: VIP2 }, destinations: [RS1] });
    await viewer.services.list();
    const gets = () => deps.fake.calls.get('listDestinations') ?? 0;
    const n = gets();
    // behind the agent's back: a threshold, which /proc/net/ip_vs does not show
    await deps.fake.updateDestination(VIP, { ...RS1, forward: 'dr', weight: 1, upperThreshold: 7, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' } });
    // the clock stands still from here: on a loaded host a plain read more than a tick (20 ms) later would rightly read again
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const fresh = await viewer.services.list({ fresh: true });
    expect(gets() - n).toBe(2);
    expect(fresh.find((s) => s.key.kind === 'addr' && s.key.port === 80)!.destinations.find((d) => d.address === '10.0.0.1')!.upperThreshold).toBe(7);
    // the hub holds it now: a plain read serves the same without reading again
    const m = reads();
    expect(await viewer.services.list()).toEqual(fresh);
    expect(reads()).toBe(m);
  });

  it('a read after a write sees the write, and get of a missing service is NOT_FOUND', async () => {
    await viewer.services.list();
    await op.services.create({ service: { key: VIP }, destinations: [RS1] });
    expect((await viewer.services.list()).map((s) => s.scheduler)).toEqual(['wlc']);
    await op.services.remove({ key: VIP });
    expect(await viewer.services.list()).toEqual([]);
    const e = await failure(viewer.services.get({ key: VIP }));
    expect(e.code).toBe('NOT_FOUND');
  });

  it('a mutation replies with the new object, as a following fresh read returns it', async () => {
    const created = await op.services.create({ service: { key: VIP }, destinations: [RS1] });
    const strip = <T extends { readAt: unknown }>(x: T) => ({ ...x, readAt: null });
    expect(strip(created.service)).toEqual(strip(await viewer.services.get({ key: VIP, fresh: true })));
    const updated = await op.services.update({ key: VIP, patch: { scheduler: 'sh' } });
    expect(strip(updated.service)).toEqual(strip(await viewer.services.get({ key: VIP, fresh: true })));
    const added = await op.destinations.create({ service: VIP, destination: { ...RS2, weight: 5 } });
    expect(added.destination).toMatchObject({ address: '10.0.0.2', weight: 5 });
    expect(strip(added.service)).toEqual(strip(await viewer.services.get({ key: VIP, fresh: true })));
    const changed = await op.destinations.update({ service: VIP, destination: RS2, patch: { weight: 9 } });
    expect(changed.destination.weight).toBe(9);
    expect(strip(changed.service)).toEqual(strip(await viewer.services.get({ key: VIP, fresh: true })));
    const removed = await op.destinations.remove({ service: VIP, destination: RS2 });
    expect(strip(removed.service!)).toEqual(strip(await viewer.services.get({ key: VIP, fresh: true })));
  });
});

describe('destinations', () => {
  beforeEach(async () => {
    await op.services.create({ service: { key: VIP }, destinations: [{ ...RS1, weight: 5, upperThreshold: 100, lowerThreshold: 10 }] });
  });

  it('update keeps unchanged attributes', async () => {
    await op.destinations.update({ service: VIP, destination: RS1, patch: { weight: 7 } });
    const d = (await deps.fake.listDestinations(VIP))[0]!;
    expect(d).toMatchObject({ weight: 7, upperThreshold: 100, lowerThreshold: 10, forward: 'dr' });
  });

  it('refuses lower > upper threshold as a field error on the merged destination', async () => {
    const e = await failure(op.destinations.update({ service: VIP, destination: RS1, patch: { lowerThreshold: 200 } }));
    expect(e.code).toBe('BAD_REQUEST');
    expect(issuePaths(e)).toContain('patch.lowerThreshold');
  });

  it('maps destination_exists to CONFLICT and a missing one to NOT_FOUND', async () => {
    expect((await failure(op.destinations.create({ service: VIP, destination: RS1 }))).code).toBe('CONFLICT');
    expect((await failure(op.destinations.remove({ service: VIP, destination: RS2 }))).code).toBe('NOT_FOUND');
  });

  it('drain sets weight 0 and onDrain reports until connections and templates reach 0, with the persistence caveat', async () => {
    await op.services.update({ key: VIP, patch: { flags: { persistent: true }, timeout: 300 } });
    deps.fake.setConns(VIP, RS1, { active: 2, inactive: 1, persistent: 1 });
    const r = await op.destinations.drain({ service: VIP, destination: RS1 });
    expect(r.destination.weight).toBe(0);
    expect(r.caveat).toBe(PERSISTENCE_CAVEAT);

    const ac = new AbortController();
    const seen: { active: number; done: boolean; caveat: string | null }[] = [];
    const it = await callerFor(deps, VIEWER, ac.signal).destinations.onDrain({ service: VIP, destination: RS1 });
    for await (const ev of it) {
      seen.push(dataOf(ev));
      // active ones end first: not done while inactive connections and the template remain
      if (seen.length === 2) deps.fake.setConns(VIP, RS1, { active: 0 });
      if (seen.length === 4) deps.fake.setConns(VIP, RS1, { active: 0, inactive: 0, persistent: 0 });
      if (seen.length > 20) break;
    }
    ac.abort();
    expect(seen[0]).toMatchObject({ active: 2, done: false, activeDone: false, caveat: PERSISTENCE_CAVEAT, restoreWeight: 5 });
    expect(seen[2]).toMatchObject({ active: 0, activeDone: true, done: false });
    expect(seen.at(-1)).toMatchObject({ active: 0, done: true });
    expect(seen).toHaveLength(5);
  });

  it('restore puts back the weight a drain took, once; refused for a server not drained or changed since', async () => {
    await op.destinations.update({ service: VIP, destination: RS1, patch: { weight: 6 } });
    await op.destinations.drain({ service: VIP, destination: RS1 });
    const r = await op.destinations.restore({ service: VIP, destination: RS1 });
    expect(r.destination.weight).toBe(6);
    expect((await viewer.journal.list())[0]!.op).toBe('destinations.restore');
    expect((await failure(op.destinations.restore({ service: VIP, destination: RS1 }))).code).toBe('PRECONDITION_FAILED');
    await op.destinations.drain({ service: VIP, destination: RS1 });
    await op.destinations.update({ service: VIP, destination: RS1, patch: { weight: 2 } });
    const e = await failure(op.destinations.restore({ service: VIP, destination: RS1 }));
    expect(e.code).toBe('PRECONDITION_FAILED');
    expect(e.message).toMatch(/not drained through Director, or was changed since/);
    expect((await deps.fake.listDestinations(VIP)).find((d) => d.address === RS1.address)!.weight).toBe(2);
  });

  it('has no caveat on a non-persistent service', async () => {
    const r = await op.destinations.drain({ service: VIP, destination: RS1 });
    expect(r.caveat).toBeNull();
  });
});

describe('roles', () => {
  it('refuses every write to a viewer with FORBIDDEN and leaves the table unchanged', async () => {
    await op.services.create({ service: { key: VIP }, destinations: [RS1] });
    const before = JSON.stringify(await deps.fake.dump());
    const writes: [string, () => Promise<unknown>][] = [
      ['services.create', () => viewer.services.create({ service: { key: { ...VIP, port: 81 } } })],
      ['services.update', () => viewer.services.update({ key: VIP, patch: { scheduler: 'rr' } })],
      ['services.remove', () => viewer.services.remove({ key: VIP })],
      ['destinations.create', () => viewer.destinations.create({ service: VIP, destination: RS2 })],
      ['destinations.update', () => viewer.destinations.update({ service: VIP, destination: RS1, patch: { weight: 9 } })],
      ['destinations.remove', () => viewer.destinations.remove({ service: VIP, destination: RS1 })],
      ['destinations.drain', () => viewer.destinations.drain({ service: VIP, destination: RS1 })],
      ['stats.zero', () => viewer.stats.zero({})],
      ['timeouts.set', () => viewer.timeouts.set({ tcp: 100 })],
      ['table.clear', () => viewer.table.clear()],
      ['sync.start', () => viewer.sync.start({ state: 'master', interface: 'eth0', syncId: 1 })],
      ['sync.stop', () => viewer.sync.stop({ state: 'master' })],
      ['snapshot.restore', () => viewer.snapshot.restore({ format: 'ipvsadm', text: '-C\n' })],
      ['journal.undo', () => viewer.journal.undo()],
    ];
    for (const [name, call] of writes) {
      const e = await failure(call());
      expect(e.code, name).toBe('FORBIDDEN');
    }
    expect(JSON.stringify(await deps.fake.dump())).toBe(before);
    expect((await deps.fake.getTimeouts()).tcp).toBe(900);
  });

  it('refuses reads without identity with UNAUTHORIZED', async () => {
    const anon = callerFor(deps, null);
    expect((await failure(anon.services.list())).code).toBe('UNAUTHORIZED');
    expect((await failure(anon.auth.whoami())).code).toBe('UNAUTHORIZED');
  });

  it('whoami names the role', async () => {
    expect(await viewer.auth.whoami()).toEqual({ role: 'viewer', tokenName: 'viewer' });
  });
});

describe('journal', () => {
  it('records writes with role and before/after, newest first', async () => {
    await op.services.create({ service: { key: VIP } });
    await op.destinations.create({ service: VIP, destination: RS1 });
    const list = await viewer.journal.list();
    expect(list.map((e) => e.op)).toEqual(['destinations.create', 'services.create']);
    expect(list[0]).toMatchObject({ role: 'operator', tokenName: 'operator' });
    expect(list[0]!.objects[0]).toMatchObject({ kind: 'destination', before: null, after: { address: '10.0.0.1' } });
  });

  it('undo reverts the last change, then the one before', async () => {
    await op.services.create({ service: { key: VIP, scheduler: 'rr' }, destinations: [RS1] });
    await op.services.update({ key: VIP, patch: { scheduler: 'wrr' } });
    await op.destinations.remove({ service: VIP, destination: RS1 });

    await op.journal.undo();
    expect((await deps.fake.listDestinations(VIP)).map((d) => d.address)).toEqual(['10.0.0.1']);
    await op.journal.undo();
    expect((await deps.fake.getService(VIP)).scheduler).toBe('rr');
    await op.journal.undo();
    expect(await deps.fake.listServices()).toEqual([]);
    expect((await failure(op.journal.undo())).code).toBe('NOT_FOUND');
    const ops = (await viewer.journal.list()).map((e) => e.op);
    expect(ops.filter((o) => o === 'journal.undo')).toHaveLength(3);
  });

  it('undo of a removed service restores its destinations', async () => {
    await op.services.create({ service: { key: VIP }, destinations: [RS1, { ...RS2, weight: 4 }] });
    await op.services.remove({ key: VIP });
    await op.journal.undo();
    const ds = await deps.fake.listDestinations(VIP);
    expect(ds.map((d) => [d.address, d.weight]).sort()).toEqual([['10.0.0.1', 1], ['10.0.0.2', 4]]);
  });

  it('refuses to undo over a change made outside the agent', async () => {
    await op.services.create({ service: { key: VIP, scheduler: 'rr' } });
    await deps.fake.updateService({ ...(await deps.fake.getService(VIP)), scheduler: 'lc' });
    const e = await failure(op.journal.undo());
    expect(e.code).toBe('CONFLICT');
    expect((await deps.fake.getService(VIP)).scheduler).toBe('lc');
  });

  it('undoes any change, not only the newest, while its objects are as it left them', async () => {
    const OTHER = { ...VIP, port: 8080 };
    await op.services.create({ service: { key: VIP, scheduler: 'rr' }, destinations: [RS1] });
    const mine = (await viewer.journal.list())[0]!.id;
    // later changes on other objects (a health action, a colleague) do not put it out of reach
    await op.services.create({ service: { key: OTHER } });
    await op.destinations.update({ service: OTHER, destination: { family: 'inet', address: '10.0.0.9', port: 80 }, patch: {} }).catch(() => undefined);
    await op.journal.undoEntry({ id: mine });
    expect((await deps.fake.listServices()).map((s) => s.key.kind === 'addr' && s.key.port)).toEqual([8080]);
    // undone once: a second undo of it says by which entry
    const again = await failure(op.journal.undoEntry({ id: mine }));
    expect(again.code).toBe('PRECONDITION_FAILED');
    expect(again.message).toMatch(new RegExp(`change #${mine} was already undone by #\\d+`));
    expect((await failure(op.journal.undoEntry({ id: 99_999 }))).code).toBe('NOT_FOUND');
  });

  it('refuses to undo an older change whose object a later one changed, naming it, and changes nothing', async () => {
    await op.services.create({ service: { key: VIP, scheduler: 'rr' }, destinations: [RS1] });
    const created = (await viewer.journal.list())[0]!.id;
    await op.destinations.update({ service: VIP, destination: RS1, patch: { weight: 7 } });
    const e = await failure(op.journal.undoEntry({ id: created }));
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toMatch(/service TCP 192\.0\.2\.10:80 was changed since/);
    expect((await deps.fake.listDestinations(VIP)).map((d) => d.weight)).toEqual([7]);
  });

  it('undoes timeouts', async () => {
    await op.timeouts.set({ tcp: 1000 });
    expect((await viewer.timeouts.get()).tcp).toBe(1000);
    await op.journal.undo();
    expect((await viewer.timeouts.get()).tcp).toBe(900);
  });
});

describe('ipvsadm -C, --start-daemon, --stop-daemon, -Z as mutations', () => {
  it('table.clear removes every service in one journal entry; undo puts the table back', async () => {
    await op.services.create({ service: { key: VIP, scheduler: 'rr' }, destinations: [RS1, { ...RS2, weight: 3 }] });
    await op.services.create({ service: { key: { ...VIP, port: 443 } }, destinations: [RS1] });
    // the configuration, not the counters or the kernel's order
    const rules = async () => JSON.stringify((await deps.fake.dump())
      .map((s) => ({ key: s.key, scheduler: s.scheduler, dests: s.destinations.map((d) => [d.address, d.port, d.weight, d.forward]).sort() }))
      .sort((a, b) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key))));
    const before = await rules();
    const r = await op.table.clear();
    expect(r.removed).toBe(2);
    expect(await deps.fake.listServices()).toEqual([]);
    const [entry] = await viewer.journal.list();
    expect(entry).toMatchObject({ id: r.journalId, op: 'table.clear', state: 'done' });
    expect(entry!.objects).toHaveLength(2);
    await op.journal.undo();
    expect(await rules()).toBe(before);
  });

  it('undo of a clear refuses when a service was added since', async () => {
    await op.services.create({ service: { key: VIP } });
    await op.table.clear();
    // ipvsadm adds it back behind the agent's back
    await deps.fake.addService({ key: VIP, scheduler: 'lc', flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0, netmask: '255.255.255.255', pe: null });
    expect((await failure(op.journal.undo())).code).toBe('CONFLICT');
  });

  it('sync.start and sync.stop are journaled; undo stops what was started and restarts what was stopped', async () => {
    const started = await op.sync.start({ state: 'backup', interface: 'eth1', syncId: 7, port: 9000 });
    expect(started.daemon).toMatchObject({ state: 'backup', interface: 'eth1', syncId: 7, port: 9000 });
    expect(await viewer.sync.list()).toHaveLength(1);
    // a second start of the same role is refused, naming what runs
    const twice = await failure(op.sync.start({ state: 'backup', interface: 'eth2', syncId: 1 }));
    expect(twice.message).toMatch(/already runs \(on eth1, syncid 7\)/);
    await op.sync.stop({ state: 'backup' });
    expect(await viewer.sync.list()).toEqual([]);
    const ops = (await viewer.journal.list()).map((e) => e.op);
    expect(ops.slice(0, 2)).toEqual(['sync.stop', 'sync.start']);
    await op.journal.undo();
    expect(await viewer.sync.list()).toEqual([started.daemon]);
    await op.journal.undo();
    expect(await viewer.sync.list()).toEqual([]);
    expect((await failure(op.sync.stop({ state: 'master' }))).message).toMatch(/no master sync daemon runs/);
  });

  it('sync.start refuses bad input naming the field, and starts nothing', async () => {
    for (const [input, field] of [
      [{ state: 'master', interface: 'a/b', syncId: 1 }, 'interface'],
      [{ state: 'master', interface: 'eth0', syncId: 256 }, 'syncId'],
      [{ state: 'master', interface: 'eth0', syncId: 1, group: '10.0.0.1' }, 'group'],
      [{ state: 'leader', interface: 'eth0', syncId: 1 }, 'state'],
    ] as const) {
      const e = await failure(op.sync.start(input as never));
      expect(e.code).toBe('BAD_REQUEST');
      expect(issuePaths(e)).toContain(field);
    }
    expect(await viewer.sync.list()).toEqual([]);
  });

  it('stats.zero is journaled as not undoable: undo reaches past it', async () => {
    await op.services.create({ service: { key: VIP } });
    await op.timeouts.set({ udp: 30 });
    const z = await op.stats.zero({ key: VIP });
    const [entry] = await viewer.journal.list();
    expect(entry).toMatchObject({ id: z.journalId, op: 'stats.zero', objects: [{ kind: 'counters', key: VIP }] });
    const undone = await op.journal.undo();
    expect(undone.undone.op).toBe('timeouts.set');
  });
});

describe('subscriptions', () => {
  function popcount(m: number): number {
    let n = 0;
    for (; m; m &= m - 1) n++;
    return n;
  }

  async function collect<T>(iterable: AsyncIterable<unknown>, n: number, onEach?: (i: number) => Promise<void> | void): Promise<T[]> {
    const out: T[] = [];
    for await (const ev of iterable) {
      out.push(dataOf<T>(ev));
      if (out.length >= n) break;
      await onEach?.(out.length);
    }
    return out;
  }

  it('stats.onTick: full first, then only what changed, with the agent\'s rates from counter deltas', async () => {
    await op.services.create({ service: { key: VIP }, destinations: [RS1, RS2] });
    for (let i = 0; i < 50; i++) await op.services.create({ service: { key: { ...VIP, port: 1000 + i } }, destinations: [RS1] });
    deps.hub.start();
    const ac = new AbortController();
    const sub = await callerFor(deps, VIEWER, ac.signal).stats.onTick();
    const table = new LiveTable();
    const ticks = await collect<WireTick>(sub, 4, (i) => {
      if (i === 1) deps.fake.traffic(VIP, RS1, { conns: 10, inPkts: 100, inBytes: 10_000 }, { cps: 3 });
    });
    ac.abort();
    for (const t of ticks) expect(table.apply(t)).toBe(true);
    expect(ticks[0]!.full).toBe(true);
    expect(ticks[0]!.n.filter((e) => e.length === 2)).toHaveLength(51);
    const delta = ticks.slice(1).find((t) => t.r.length > 0)!;
    expect(delta.full).toBe(false);
    // only the service that saw traffic and its real server are in the delta: two rows, rates as values
    const rows: [number, number][] = [];
    for (let i = 0; i < delta.r.length; i += 2 + popcount(delta.r[i + 1]!)) rows.push([delta.r[i]!, delta.r[i + 1]!]);
    expect(rows).toHaveLength(2);
    for (const [, mask] of rows) expect(mask & (1 << LIVE_FIELDS.indexOf('inPps'))).not.toBe(0);
    const svc = table.services.get('tcp:192.0.2.10:80')!;
    expect(svc.dests.get('10.0.0.1:80')!.v.inPps).toBeGreaterThan(0);
    expect(svc.dests.get('10.0.0.1:80')!.v.inBps).toBeGreaterThan(0);
    expect(svc.dests.get('10.0.0.2:80')!.v.inBps).toBe(0);
    // the values a browser holds are the agent's own
    const agent = (deps.hub as unknown as { current: { state: Map<string, { dests: Map<string, { rInPps: number }> }> } }).current.state;
    expect(svc.dests.get('10.0.0.1:80')!.v.inPps).toBe(agent.get('tcp:192.0.2.10:80')!.dests.get('10.0.0.1:80')!.rInPps);
  });

  it('one sampler serves every subscriber', async () => {
    await op.services.create({ service: { key: VIP } });
    deps.hub.start();
    const ac = new AbortController();
    const subs = await Promise.all(Array.from({ length: 10 }, () => callerFor(deps, VIEWER, ac.signal).stats.onTick()));
    const dumpsBefore = deps.fake.calls.get('dump') ?? 0;
    const t0 = Date.now();
    await Promise.all(subs.map((s) => collect<WireTick>(s, 3)));
    const elapsedTicks = (Date.now() - t0) / deps.hub.tickMs;
    ac.abort();
    const dumps = (deps.fake.calls.get('dump') ?? 0) - dumpsBefore;
    // 10 subscribers x 3 ticks would be 30 dumps with a sampler per client
    expect(dumps).toBeLessThanOrEqual(Math.ceil(elapsedTicks) + 2);
    expect(dumps).toBeLessThan(30);
  });

  it('table.onChange reports changes made behind the agent\'s back', async () => {
    await op.services.create({ service: { key: VIP }, destinations: [RS1] });
    deps.hub.start();
    await deps.hub.sampleNow();
    const ac = new AbortController();
    const sub = await callerFor(deps, VIEWER, ac.signal).table.onChange();
    const eventsP = collect<TableChangeEvent>(sub, 2);
    // as ipvsadm would: straight to the kernel
    await deps.fake.addDestination(VIP, { ...RS2, forward: 'nat', weight: 3, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' } });
    await new Promise((r) => setTimeout(r, 60));
    await deps.fake.updateService({ ...(await deps.fake.getService(VIP)), scheduler: 'rr' });
    await deps.fake.removeDestination(VIP, RS1);
    const events = await eventsP;
    ac.abort();
    const changes = events.flatMap((e) => e.changes);
    expect(changes[0]).toMatchObject({ type: 'destination_added', destination: { address: '10.0.0.2', weight: 3 } });
    expect(changes.map((c) => c.type)).toEqual(expect.arrayContaining(['service_changed', 'destination_removed']));
    const sc = changes.find((c) => c.type === 'service_changed')!;
    expect(sc).toMatchObject({ before: { scheduler: 'wlc' }, after: { scheduler: 'rr' } });
    // each event carries the service as it is after the change, as services.get serves it
    const last = events.at(-1)!;
    expect(last.services).toHaveLength(1);
    expect(last.services[0]).toMatchObject({ scheduler: 'rr', destinations: [{ address: '10.0.0.2', weight: 3 }] });
    expect(last.services[0]!.readAt.config).toBe(last.at);
    expect(last.removed).toEqual([]);
  });

  it('table.onChange names a service removed behind the agent\'s back', async () => {
    await op.services.create({ service: { key: VIP }, destinations: [RS1] });
    deps.hub.start();
    await deps.hub.sampleNow();
    const ac = new AbortController();
    const sub = await callerFor(deps, VIEWER, ac.signal).table.onChange();
    const eventsP = collect<TableChangeEvent>(sub, 1);
    await deps.fake.removeService(VIP);
    const [e] = await eventsP;
    ac.abort();
    expect(e!.services).toEqual([]);
    expect(e!.removed).toEqual([VIP]);
  });

  it('a subscriber resuming with an unknown event id is told to resync', async () => {
    deps.hub.start();
    await deps.hub.sampleNow();
    const ac = new AbortController();
    const sub = await callerFor(deps, VIEWER, ac.signal).table.onChange({ lastEventId: 'old-epoch:5' });
    const [first] = await collect<TableChangeEvent>(sub, 1);
    ac.abort();
    expect(first!.resync).toBe(true);
  });

  it('connection procedures say clearly when no reader is available', async () => {
    const e = await failure(viewer.connections.summary());
    expect(e.code).toBe('NOT_IMPLEMENTED');
    expect(e.message).toMatch(/connection table reader/);
  });
});
