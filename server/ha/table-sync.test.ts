/**
 * Table replication against a stateful in-memory ZooKeeper (one znode store
 * with versions and watches) and the fake kernel: what a writer without the
 * table key puts in `<root>/table` changes nothing, and a signed change that
 * empties the table waits for an operator. The real ZooKeeper, ACLs and
 * kernel are in the HA lab (server/lab/ha.lab-test.ts).
 */
import zookeeper from 'node-zookeeper-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Stat } from 'node-zookeeper-client';
import { formatSnapshot } from '@/lib/snapshot/format';
import { toRules } from '@/lib/snapshot/json';
import type { ZkState } from '@/lib/schemas/ha';
import { Journal, type JournalDisk } from '../table/journal';
import { makeDeps, silentLog } from '../api/testing';
import { dst, svc, tcp } from '../ipvs/kernel-test-helpers';
import { FakeIpvs } from '../ipvs/fake';
import { encodeSignedTable, signTable, verifyTable } from './table-signing';
import { TableSync } from './table-sync';
import { ZkError, type ZkNode } from './zookeeper';
import { outsideChanges, rulesTable, type OutsideChange } from '@/lib/agent/outside';

const ROOT = '/director';
const PATH = `${ROOT}/table`;
const KEY = Buffer.from('k'.repeat(44));

/** One ZooKeeper store: versions, one-shot watches, and paths an outsider may write (a world-writable ACL). */
class MemoryZk {
  state: ZkState = 'connected';
  generation = 1;
  nodes = new Map<string, { data: Buffer; version: number }>();
  worldWritable = new Set<string>();
  private watches = new Map<string, (() => void)[]>();

  private stat(version: number): Stat {
    return { version, ephemeralOwner: Buffer.alloc(8), mtime: Buffer.alloc(8) };
  }
  private fire(path: string): void {
    const w = this.watches.get(path) ?? [];
    this.watches.delete(path);
    for (const f of w) f();
  }
  async get(path: string, watch?: () => void): Promise<ZkNode | null> {
    if (watch) this.watches.set(path, [...(this.watches.get(path) ?? []), watch]);
    const n = this.nodes.get(path);
    return n ? { data: n.data, stat: this.stat(n.version) } : null;
  }
  async create(path: string, data: Buffer): Promise<string> {
    if (this.nodes.has(path)) throw new ZkError(zookeeper.Exception.NODE_EXISTS, 'NODE_EXISTS');
    this.nodes.set(path, { data, version: 0 });
    this.fire(path);
    return path;
  }
  async set_(path: string, data: Buffer, version: number): Promise<Stat> {
    const n = this.nodes.get(path);
    if (!n) throw new ZkError(zookeeper.Exception.NO_NODE, 'NO_NODE');
    if (version !== -1 && version !== n.version) throw new ZkError(zookeeper.Exception.BAD_VERSION, 'BAD_VERSION');
    n.data = data;
    n.version++;
    this.fire(path);
    return this.stat(n.version);
  }
  async mkdirp(path: string): Promise<string> {
    return path;
  }
  async aclProblem(paths: readonly string[]): Promise<string | null> {
    const p = paths.find((x) => this.worldWritable.has(x));
    return p ? `${p} is writable without the cluster's credentials (ACL world:anyone:cdrwa)` : null;
  }
  /** someone else's write: no version check, as with zkCli */
  outsiderWrite(path: string, data: Buffer): void {
    const n = this.nodes.get(path);
    if (n) { n.data = data; n.version++; } else this.nodes.set(path, { data, version: 0 });
    this.fire(path);
  }
}

const A = tcp('10.0.0.1', 80);
const B = tcp('10.0.0.2', 443);
const C = tcp('10.0.0.3', 53);
const tableText = (lines: string[]) => `${lines.join('\n')}\n`;
const FOREIGN = tableText(['-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 203.0.113.66:80 -m -w 1']);

const closers: (() => void)[] = [];
afterEach(() => { for (const c of closers.splice(0)) c(); });

async function director(services = [A, B], { journal, ...o }: { aclRecheckMs?: number; journal?: Journal; outside?: () => OutsideChange[] } = {}) {
  const fake = new FakeIpvs();
  for (const k of services) {
    await fake.addService(svc(k, { scheduler: 'wlc' }));
    await fake.addDestination(k, dst('10.0.1.1', k.kind === 'addr' ? k.port : 0, { forward: 'nat' }));
  }
  const deps = await makeDeps({ fake });
  if (journal) deps.journal = journal;
  const zk = new MemoryZk();
  const sync = new TableSync({
    backend: fake, journal: deps.journal, writeLock: deps.writeLock, hub: deps.hub, log: silentLog, director: 'lvs1',
    path: PATH, root: ROOT, key: () => KEY, holdShare: 0.5, onChange: () => {}, ...o,
  });
  closers.push(() => { sync.close(); deps.hub.close(); });
  const text = async () => formatSnapshot(toRules(await fake.dump()), { thresholds: true });
  sync.attach(zk as never);
  await until(() => zk.nodes.has(PATH), 'the first publish');
  return { fake, zk, sync, journal: deps.journal, text };
}

async function until(fn: () => boolean | Promise<boolean>, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`not within ${ms} ms: ${what}`);
}

const replicated = (j: { list(o: { limit: number }): { op: string }[] }) => j.list({ limit: 100 }).filter((e) => e.op === 'ha.replicate');

let clock = 0;
/** a peer's payload, newer than any so far unless `seq` says otherwise */
function peerPayload(zk: MemoryZk, table: string, o: { key?: Buffer; seq?: number; director?: string } = {}): Buffer {
  const cur = verifyTable(KEY, ROOT, zk.nodes.get(PATH)?.data, null);
  const seq = o.seq ?? Math.max(cur.ok ? cur.payload.seq + 1 : 0, Date.now() + ++clock);
  return encodeSignedTable(signTable(o.key ?? KEY, ROOT, { seq, ts: Date.now(), director: o.director ?? 'lvs2', table }));
}

describe('table replication: refusing what the table key did not sign', () => {
  it('publishes its own table signed', async () => {
    const d = await director();
    const v = verifyTable(KEY, ROOT, d.zk.nodes.get(PATH)!.data, null);
    expect(v.ok && v.payload).toMatchObject({ director: 'lvs1', table: await d.text() });
  });

  it.each([
    ['a plain ipvsadm table (what the agents used to accept)', () => Buffer.from(FOREIGN), /unsigned/],
    ['empty bytes (used to remove every service)', () => Buffer.alloc(0), /unsigned: the shared table znode is empty/],
    ['a payload signed with another key', (zk: MemoryZk) => peerPayload(zk, FOREIGN, { key: Buffer.from('x'.repeat(44)) }), /invalid signature/],
    ['a signed payload with its table swapped', (zk: MemoryZk) => {
      const p = JSON.parse(peerPayload(zk, tableText(['-A -t 10.0.0.9:80 -s rr'])).toString()) as { table: string };
      return Buffer.from(JSON.stringify({ ...p, table: FOREIGN }));
    }, /invalid signature/],
    ['an older signed payload replayed', (zk: MemoryZk) => peerPayload(zk, FOREIGN, { seq: 1 }), /stale/],
  ])('%s: refused, the table and the journal unchanged, the reason in the status', async (_name, payload, reason) => {
    const d = await director();
    const before = await d.text();
    d.zk.outsiderWrite(PATH, payload(d.zk));
    await until(async () => d.sync.refused != null || (await d.text()) !== before, 'refused or applied');
    expect(await d.text()).toBe(before);
    expect(replicated(d.journal)).toEqual([]);
    expect(d.sync.refused).toMatchObject({ reason: expect.stringMatching(reason), zkVersion: d.zk.nodes.get(PATH)!.version });
    expect(d.sync.appliedVersion).toBeLessThan(d.zk.nodes.get(PATH)!.version);
  });

  it('a validly signed newer table is applied (journaled) and clears the refusal', async () => {
    const d = await director();
    d.zk.outsiderWrite(PATH, Buffer.from(FOREIGN));
    await until(() => d.sync.refused != null, 'refused');
    d.zk.outsiderWrite(PATH, peerPayload(d.zk, tableText(['-A -t 10.0.0.1:80 -s rr', '-A -t 10.0.0.2:443 -s rr', '-A -t 10.0.0.4:25 -s rr'])));
    await until(async () => (await d.fake.dump()).length === 3, 'the peer table applied');
    expect(d.sync.refused).toBeNull();
    expect(replicated(d.journal)).toHaveLength(1);
    expect(d.sync.appliedVersion).toBe(d.zk.nodes.get(PATH)!.version);
  });

  it('refuses everything (and publishes nothing) while the root is writable without credentials', async () => {
    const d = await director();
    d.zk.worldWritable.add(ROOT);
    d.zk.generation++;
    d.sync.attach(d.zk as never);
    await until(() => d.sync.refused != null, 'refused for the ACL');
    expect(d.sync.refused!.reason).toMatch(/\/director is writable without the cluster's credentials.*setAcl -R \/director auth::cdrwa/);
    const before = await d.text();
    const version = d.zk.nodes.get(PATH)!.version;
    d.zk.outsiderWrite(PATH, peerPayload(d.zk, tableText(['-A -t 10.0.0.1:80 -s rr', '-A -t 10.0.0.2:443 -s rr', '-A -t 10.0.0.7:80 -s rr'])));
    await new Promise((r) => setTimeout(r, 100));
    expect(await d.text()).toBe(before);
    // a local write is not published into it either
    await d.fake.addService(svc(C));
    await d.journal.append({ role: 'operator', tokenName: 'op', remote: 't', op: 'services.create', objects: [{ kind: 'service', key: C, before: null, after: null }] });
    await new Promise((r) => setTimeout(r, 100));
    expect(d.zk.nodes.get(PATH)!.version).toBe(version + 1);
  });

  it('once the ACL is fixed, replication resumes at the next look: the waiting local write is published', async () => {
    const d = await director([A, B], { aclRecheckMs: 50 });
    d.zk.worldWritable.add(ROOT);
    d.zk.generation++;
    const tick = setInterval(() => d.sync.attach(d.zk as never), 10);
    closers.push(() => clearInterval(tick));
    await until(() => d.sync.refused != null, 'refused for the ACL');
    await d.fake.addService(svc(C));
    await d.journal.append({ role: 'operator', tokenName: 'op', remote: 't', op: 'services.create', objects: [{ kind: 'service', key: C, before: null, after: null }] });
    await new Promise((r) => setTimeout(r, 100));
    expect(d.sync.refused?.zkVersion).toBeNull();
    d.zk.worldWritable.delete(ROOT);
    await until(() => d.sync.refused === null, 'the refusal cleared');
    await until(() => { const v = verifyTable(KEY, ROOT, d.zk.nodes.get(PATH)!.data, null); return v.ok && v.payload.table.includes('10.0.0.3:53'); }, 'the waiting write published');
  });
});

describe('table replication: a change removing too much is held for an operator', () => {
  it('a signed change removing every service is held; confirming it applies it, journaled with the operator', async () => {
    const d = await director();
    const before = await d.text();
    d.zk.outsiderWrite(PATH, peerPayload(d.zk, ''));
    await until(async () => d.sync.held != null || (await d.text()) !== before, 'held or applied');
    expect(await d.text()).toBe(before);
    expect(d.sync.held).toMatchObject({ from: 'lvs2', removedCount: 2, of: 2, removed: ['TCP 10.0.0.1:80', 'TCP 10.0.0.2:443'], reason: expect.stringMatching(/removes every service/) });
    const seq = d.sync.held!.seq;
    await expect(d.sync.confirmHeld(seq + 1, 'alice')).rejects.toThrow(/held change is sequence/);
    expect(await d.fake.dump()).toHaveLength(2);
    await d.sync.confirmHeld(seq, 'alice');
    expect(await d.fake.dump()).toEqual([]);
    expect(d.sync.held).toBeNull();
    expect(replicated(d.journal)).toMatchObject([{ tokenName: 'alice', remote: 'zookeeper' }]);
    await expect(d.sync.confirmHeld(seq, 'alice')).rejects.toThrow(/holds no replicated change/);
  });

  it('more than the share: held; up to the share: applied', async () => {
    const d = await director([A, B, C]);
    // one of three (33 %): applied
    d.zk.outsiderWrite(PATH, peerPayload(d.zk, tableText(['-A -t 10.0.0.1:80 -s wlc', '-A -t 10.0.0.2:443 -s wlc'])));
    await until(async () => (await d.fake.dump()).length === 2, 'one of three removed');
    expect(d.sync.held).toBeNull();
    // put the third back, then a change removing two of three (67 %): held
    d.zk.outsiderWrite(PATH, peerPayload(d.zk, tableText(['-A -t 10.0.0.1:80 -s wlc', '-A -t 10.0.0.2:443 -s wlc', '-A -t 10.0.0.3:53 -s wlc'])));
    await until(async () => (await d.fake.dump()).length === 3, 'three again');
    d.zk.outsiderWrite(PATH, peerPayload(d.zk, tableText(['-A -t 10.0.0.1:80 -s wlc'])));
    await until(() => d.sync.held != null, 'held');
    expect(d.sync.held).toMatchObject({ removedCount: 2, of: 3, reason: expect.stringMatching(/removes 2 of 3 services \(67 %, more than 50 %\)/) });
    expect(await d.fake.dump()).toHaveLength(3);
    // a newer change that removes little replaces the held one
    d.zk.outsiderWrite(PATH, peerPayload(d.zk, tableText(['-A -t 10.0.0.1:80 -s wlc', '-A -t 10.0.0.2:443 -s wlc', '-A -t 10.0.0.3:53 -s wlc', '-A -t 10.0.0.5:80 -s wlc'])));
    await until(async () => (await d.fake.dump()).length === 4, 'the newer change applied');
    expect(d.sync.held).toBeNull();
  });
});

describe('table replication and the journal', () => {
  it('a peer table is journaled before it is applied: with the journal failing the kernel is left alone', async () => {
    let failing = false;
    const files = new Map<string, string>();
    const disk: JournalDisk = {
      append: async (f, t) => { if (failing) throw new Error('ENOSPC: no space left on device'); files.set(f, (files.get(f) ?? '') + t); },
      read: async (f) => files.get(f) ?? null,
      size: async (f) => (files.get(f) ?? '').length,
      rename: async () => {},
    };
    const d = await director([A, B], { journal: await Journal.open('/state', { disk }) });
    const before = await d.text();
    failing = true;
    d.zk.outsiderWrite(PATH, peerPayload(d.zk, tableText(['-A -t 10.0.0.1:80 -s rr', '-A -t 10.0.0.2:443 -s rr', '-A -t 10.0.0.5:80 -s rr'])));
    await until(() => d.sync.lastError != null, 'the apply failing');
    expect(d.sync.lastError).toMatch(/cannot write the journal: ENOSPC/);
    expect(await d.text()).toBe(before);
    expect(replicated(d.journal)).toEqual([]);
    failing = false;
    d.zk.outsiderWrite(PATH, peerPayload(d.zk, tableText(['-A -t 10.0.0.1:80 -s rr', '-A -t 10.0.0.2:443 -s rr', '-A -t 10.0.0.6:80 -s rr'])));
    await until(async () => (await d.fake.dump()).length === 3, 'the next peer table applied');
    expect(replicated(d.journal)).toMatchObject([{ state: 'done' }]);
  });
});

describe('table replication never silently undoes a change made outside Director', () => {
  it('a table that would undo an outside change here is held, naming it; one that leaves it alone applies; confirming applies the held one', async () => {
    let outside: OutsideChange[] = [];
    const d = await director([A, B], { outside: () => outside });
    const expected = rulesTable(await d.fake.dump());
    // another tool (ipvsadm) raised a weight on this director
    await d.fake.updateDestination(A, dst('10.0.1.1', 80, { forward: 'nat', weight: 5 }));
    outside = outsideChanges(expected, rulesTable(await d.fake.dump()), [], Date.now(), () => 1);
    const edited = await d.text();

    // a peer adds a service and leaves A as it is here: applied
    d.zk.outsiderWrite(PATH, peerPayload(d.zk, `${edited}-A -t 10.0.0.3:53 -s wlc\n`));
    await until(async () => (await d.fake.dump()).length === 3, 'the added service applied');
    expect(d.sync.held).toBeNull();

    // a peer's table with A as Director last wrote it (weight 1): held, the outside change named
    const undoing = edited.replace(/(-r 10\.0\.1\.1:80 -m -w) 5/, '$1 1');
    expect(undoing).not.toBe(edited);
    const now = await d.text();
    d.zk.outsiderWrite(PATH, peerPayload(d.zk, undoing));
    await until(() => d.sync.held != null, 'held');
    expect(await d.text()).toBe(now);
    expect(d.sync.held).toMatchObject({
      from: 'lvs2', removedCount: 1, outside: ['TCP 10.0.0.1:80: real server 10.0.1.1:80: weight 1 → 5'],
      reason: expect.stringMatching(/would undo changes made outside Director on lvs1 to 1 service\(s\) \(TCP 10\.0\.0\.1:80\): adopt or revert them there, or confirm it to apply/),
    });
    await d.sync.confirmHeld(d.sync.held!.seq, 'alice');
    expect((await d.fake.listDestinations(A))[0]!.weight).toBe(1);
    expect(replicated(d.journal)[0]).toMatchObject({ tokenName: 'alice' });
  });
});
