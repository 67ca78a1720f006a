/**
 * The agent's registry entry against a stateful ZooKeeper stand-in (the real
 * one: zookeeper.kernel.test.ts): a code made as `director agent enroll`
 * makes it, replaced once redeemed or expired, the old one voided.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeCode, encodeCode } from '@/lib/enroll/code';
import { encodeRegistryData } from '@/lib/enroll/registry';
import { claimSecret, enrollmentPending } from '../api/enroll';
import { listRegistry, Registration, type RegistryZk } from './registry';
import { ZkError } from './zookeeper';

const FP = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':');
const log = pino({ level: 'silent' });

/** Nodes with data, version and owning session; a new session bumps `generation`. */
class FakeZk implements RegistryZk {
  state: RegistryZk['state'] = 'connected';
  generation = 1;
  session = Buffer.from('0000000000000001', 'hex');
  nodes = new Map<string, { data: Buffer; version: number; owner: Buffer }>();
  private stat(n: { version: number; owner: Buffer }) {
    return { version: n.version, ephemeralOwner: n.owner } as never;
  }
  async get(p: string) {
    const n = this.nodes.get(p);
    return n ? { data: n.data, stat: this.stat(n) } : null;
  }
  async create(p: string, data: Buffer) {
    if (this.nodes.has(p)) throw new ZkError(-110, 'NODE_EXISTS');
    this.nodes.set(p, { data, version: 0, owner: this.session });
    return p;
  }
  async set_(p: string, data: Buffer, version: number) {
    const n = this.nodes.get(p);
    if (!n) throw new ZkError(-101, 'NO_NODE');
    if (version !== -1 && version !== n.version) throw new ZkError(-103, 'BAD_VERSION');
    n.data = data;
    n.version++;
    return this.stat(n);
  }
  async remove(p: string) {
    this.nodes.delete(p);
  }
  async children(p: string) {
    return [...this.nodes.keys()].filter((k) => k.startsWith(`${p}/`)).map((k) => k.slice(p.length + 1));
  }
  async mkdirp(p: string) {
    return p;
  }
  ownedByMe(stat: { ephemeralOwner: Buffer }) {
    return Buffer.compare(stat.ephemeralOwner, this.session) === 0;
  }
}

let dir: string;
let zk: FakeZk;
let now: number;
const NODE = '/director/registry/lvs2';
const codeIn = (z: FakeZk) => z.nodes.get(NODE)!.data.toString('utf8');

function registration(): Registration {
  return new Registration({ root: '/director', director: 'lvs2', stateDir: dir, url: 'https://10.0.0.2:9580', fingerprint: FP, log, checkEveryMs: 1000, now: () => now });
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'director-registry-'));
  zk = new FakeZk();
  now = Date.now();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Registration', () => {
  it('publishes a pending enrollment code for this agent, only while connected', async () => {
    const r = registration();
    zk.state = 'disconnected';
    r.attach(zk);
    await r.settled();
    expect(zk.nodes.size).toBe(0);
    zk.state = 'connected';
    r.attach(zk);
    await r.settled();
    const c = decodeCode(codeIn(zk));
    expect(c).toMatchObject({ url: 'https://10.0.0.2:9580', fingerprint: FP });
    expect(await enrollmentPending(dir, c.secret, now)).toBe(true);
    // valid for a day, as long as `director agent enroll --ttl 24h` allows
    expect(await enrollmentPending(dir, c.secret, now + 24 * 3600_000 - 1000)).toBe(true);
    expect(r.lastError).toBeNull();
  });

  it('replaces a redeemed code and an expired one (voiding it) with a fresh one', async () => {
    const r = registration();
    r.attach(zk);
    await r.settled();
    const first = codeIn(zk);
    // nothing changes between looks
    now += 1500;
    r.attach(zk);
    await r.settled();
    expect(codeIn(zk)).toBe(first);
    // a console redeemed it
    await claimSecret(dir, decodeCode(first).secret, now);
    now += 1500;
    r.attach(zk);
    await r.settled();
    const second = codeIn(zk);
    expect(second).not.toBe(first);
    // a day later it expired: replaced, and voided
    now += 24 * 3600_000 + 1000;
    r.attach(zk);
    await r.settled();
    expect(codeIn(zk)).not.toBe(second);
    expect(await enrollmentPending(dir, decodeCode(second).secret, now - 2000)).toBe(false);
  });

  it('takes the node back from an earlier session, and voids its code when closed', async () => {
    zk.nodes.set(NODE, { data: Buffer.from('left over'), version: 3, owner: Buffer.from('00000000000000ff', 'hex') });
    const r = registration();
    r.attach(zk);
    await r.settled();
    expect(zk.ownedByMe({ ephemeralOwner: zk.nodes.get(NODE)!.owner })).toBe(true);
    const secret = decodeCode(codeIn(zk)).secret;
    // a new session: the entry is made again
    zk.nodes.delete(NODE);
    zk.generation++;
    r.attach(zk);
    await r.settled();
    expect(decodeCode(codeIn(zk)).secret).toBe(secret);
    await r.close();
    expect(await enrollmentPending(dir, secret, now)).toBe(false);
  });
});

describe('listRegistry', () => {
  it('lists well-formed entries and skips the others with why', async () => {
    const good = encodeCode({ url: 'https://10.0.0.3:9580', fingerprint: FP, secret: 'B'.repeat(43) });
    zk.nodes.set('/director/registry/lvs3', { data: Buffer.from(encodeRegistryData(good)), version: 0, owner: zk.session });
    zk.nodes.set('/director/registry/lvs4', { data: Buffer.from('director-enroll-!!'), version: 0, owner: zk.session });
    zk.nodes.set('/director/registry/Bad Name', { data: Buffer.from(good), version: 0, owner: zk.session });
    const l = await listRegistry(zk, '/director');
    expect(l.entries).toEqual([{ directorId: 'lvs3', url: 'https://10.0.0.3:9580', fingerprint: FP, code: good }]);
    expect(l.skipped.map((s) => s.node).sort()).toEqual(['Bad Name', 'lvs4']);
    expect(l.skipped.find((s) => s.node === 'lvs4')!.reason).toMatch(/damaged/);
  });
});
