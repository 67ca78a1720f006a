/**
 * ZooKeeper as the HA controller uses it, against a real ZooKeeper 3.8 started
 * in the lab kernel: lease acquire/release, a dead holder's lease expiring
 * with its session, a frozen holder learning that its session expired, and
 * the session state when ZooKeeper stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseDataSchema, readJson } from '@/lib/ha/zk-layout';
import { startZookeeper, until, type RunningZk } from './kernel-test-helpers';
import { isNoAuth, isNodeExists, ZkSession } from './zookeeper';

const DIR = '/tmp/ha-zk-test';
const SESSION_MS = 2000;
const LEASE = '/director/groups/lan/lease';
let zk: RunningZk;
const sessions: ZkSession[] = [];
const children: ChildProcess[] = [];

function session(auth?: { user: string; password: string }): ZkSession {
  const s = new ZkSession({ connect: zk.connect, sessionTimeoutMs: SESSION_MS, log: pino({ level: 'silent' }), onChange: () => {}, auth: auth ?? null });
  s.start();
  sessions.push(s);
  return s;
}

function holder(name: string): { proc: ChildProcess; lines: string[] } {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'testdata/zk-holder.ts'), zk.connect, LEASE, name, String(SESSION_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'], cwd: path.resolve(import.meta.dirname, '../..'),
  });
  children.push(proc);
  const lines: string[] = [];
  proc.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  return { proc, lines };
}

beforeAll(async () => {
  const t0 = Date.now();
  zk = await startZookeeper(DIR);
  console.log(`ZooKeeper ready after ${Date.now() - t0} ms`);
});
afterAll(async () => {
  for (const s of sessions) s.close();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await zk?.stop();
});

describe('ZooKeeper ACLs', () => {
  it('with credentials every node is the identity\'s alone; a node made without them is reported as writable by anyone', async () => {
    const creds = { user: 'director', password: 'kernel-test-password-0123' };
    const a = session(creds);
    const peer = session(creds);
    const outsider = session();
    await until(() => [a, peer, outsider].every((s) => s.state === 'connected'), 20_000, 'three sessions connected');
    await a.mkdirp('/secured/groups/lan');
    await a.create('/secured/table', Buffer.from('x'), false);
    expect(await a.getAcl('/secured')).toEqual([{ permission: 31, id: { scheme: 'digest', id: expect.stringMatching(/^director:.{28}$/) } }]);
    expect(await a.aclProblem(['/secured', '/secured/table', '/secured/nothing-here'])).toBeNull();
    // the other director, same credentials: may write; someone without them: NoAuth for writes and reads
    await peer.set_('/secured/table', Buffer.from('y'), -1);
    expect(isNoAuth(await outsider.set_('/secured/table', Buffer.alloc(0), -1).catch((e: unknown) => e))).toBe(true);
    expect(isNoAuth(await outsider.create('/secured/groups/lan/lease', Buffer.from('{}'), true).catch((e: unknown) => e))).toBe(true);
    expect(isNoAuth(await outsider.get('/secured/table').catch((e: unknown) => e))).toBe(true);
    // a root made by a session without credentials (an agent before this change, or anyone): world-writable
    await outsider.mkdirp('/open/groups');
    expect(await a.aclProblem(['/open', '/open/table'])).toBe("/open is writable without the cluster's credentials (ACL world:anyone:rwcda)");
    for (const s of [a, peer, outsider]) s.close();
  });
});

describe('ZooKeeper lease', () => {
  it('one ephemeral lease: the first create wins, the second sees NODE_EXISTS; the owner is recognised by session', async () => {
    const a = session();
    const b = session();
    await until(() => a.state === 'connected' && b.state === 'connected', 20_000, 'both sessions connected');
    await a.mkdirp('/director/groups/lan/members');
    await a.create(LEASE, Buffer.from(JSON.stringify({ director: 'lvs1', since: 1, priority: 150 })), true);
    const err = await b.create(LEASE, Buffer.from('{}'), true).catch((e: unknown) => e);
    expect(isNodeExists(err)).toBe(true);
    const node = (await b.get(LEASE))!;
    expect(readJson(leaseDataSchema, node.data)).toEqual({ director: 'lvs1', since: 1, priority: 150 });
    expect(a.ownedByMe(node.stat)).toBe(true);
    expect(b.ownedByMe(node.stat)).toBe(false);
    // release: removing with the version we read
    await a.remove(LEASE, node.stat.version);
    expect(await b.get(LEASE)).toBeNull();
    await b.create(LEASE, Buffer.from('{"director":"lvs2","since":2,"priority":100}'), true);
    // closing a session removes its ephemeral nodes at once (graceful agent stop)
    const t0 = Date.now();
    b.close();
    await until(async () => (await a.get(LEASE)) === null, 5000, 'lease gone after close');
    console.log(`lease gone ${Date.now() - t0} ms after closing the holder's session`);
  });

  it('a SIGKILLed holder\'s lease disappears when its session expires (about the session timeout)', async () => {
    const h = holder('dead');
    await until(() => h.lines.includes('created'), 30_000, 'holder created the lease');
    const a = session();
    await until(() => a.state === 'connected', 10_000, 'observer connected');
    expect(readJson(leaseDataSchema, (await a.get(LEASE))!.data)?.director).toBe('dead');
    const t0 = Date.now();
    h.proc.kill('SIGKILL');
    await until(async () => (await a.get(LEASE)) === null, 10_000, 'lease expired', 50);
    const took = Date.now() - t0;
    console.log(`dead holder's lease expired after ${took} ms (session timeout ${SESSION_MS} ms)`);
    expect(took).toBeGreaterThanOrEqual(SESSION_MS - 500);
    expect(took).toBeLessThan(SESSION_MS * 3);
  });

  it('a holder frozen past its session timeout learns on waking that its session expired, and starts a new one', async () => {
    const h = holder('frozen');
    await until(() => h.lines.includes('created'), 30_000, 'holder created the lease');
    h.proc.kill('SIGSTOP');
    const a = session();
    await until(async () => a.state === 'connected' && (await a.get(LEASE)) === null, 10_000, 'frozen holder\'s lease expired', 50);
    h.proc.kill('SIGCONT');
    await until(() => h.lines.includes('expired'), 10_000, 'holder saw expired');
    await until(() => h.lines.lastIndexOf('connected') > h.lines.indexOf('expired'), 10_000, 'holder reconnected with a new session');
    expect(h.lines[0]).toBe('connected');
    expect(h.lines.indexOf('created')).toBeLessThan(h.lines.indexOf('expired'));
  });

  it('ZooKeeper stopped: the session reports disconnected at once (no expiry: the client cannot learn it)', async () => {
    const a = session();
    await until(() => a.state === 'connected', 10_000, 'connected');
    const t0 = Date.now();
    await zk.stop();
    const took = await until(() => a.state === 'disconnected', 5000, 'disconnected');
    console.log(`disconnected ${Date.now() - t0} ms after ZooKeeper was killed (${took} ms of polling)`);
    expect(a.since).toBeGreaterThanOrEqual(t0);
    await new Promise((r) => setTimeout(r, SESSION_MS + 500));
    expect(a.state).toBe('disconnected');
    // back: the same session resumes if ZooKeeper kept it (a restarted standalone server with the same data dir does)
    zk = await startZookeeper(DIR);
    await until(() => a.state === 'connected' || a.state === 'expired', 60_000, 'reconnected or expired');
    console.log(`after ZooKeeper restart the session is ${a.state}`);
  });
});
