/**
 * A change-set draft survives a restart of the `director agent` process itself (bin/director.mjs, as an
 * operator starts it): an edit staged over HTTP, SIGTERM (what systemd sends on a restart), the agent started
 * again over the same state folder answers the same draft, and it still applies to the kernel.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipvsadm, ipvsadmRestore, sh } from '../ipvs/kernel-test-helpers';
import { DRAFT_FILE } from './store';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PORT = 9584;
const VIP = '10.78.0.1';

let dir: string;
let agent: { proc: ChildProcess; log: () => string } | null = null;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${agent ? `\nagent log:\n${agent.log()}` : ''}`);
    await sleep(300);
  }
}

async function startAgent(): Promise<{ proc: ChildProcess; log: () => string }> {
  let out = '';
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/director.mjs'), 'agent', '--listen', `127.0.0.1:${PORT}`,
    '--state-dir', path.join(dir, 'state'), '--log-level', 'warn'],
  { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' } });
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  agent = { proc, log: () => out };
  await until(async () => {
    if (proc.exitCode !== null) throw new Error(`the agent exited (${proc.exitCode}):\n${out}`);
    return (await fetch(`http://127.0.0.1:${PORT}/healthz`)).ok;
  }, 90_000, 'the agent to answer /healthz');
  return agent;
}

/** SIGTERM to the process that serves (bin/director.mjs runs the sources in a child when there is no bundle). */
async function stopAgent(a: { proc: ChildProcess }): Promise<number | null> {
  const pid = a.proc.pid!;
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { /* gone */ }
  const exited = new Promise<number | null>((r) => { if (a.proc.exitCode !== null) r(a.proc.exitCode); else a.proc.once('exit', (c) => r(c)); });
  process.kill(kids[0] ?? pid, 'SIGTERM');
  return Promise.race([exited, sleep(30_000).then(() => { a.proc.kill('SIGKILL'); return -1; })]);
}

/** One tRPC call over HTTP with the operator token; the reply's data, or throws with the agent's message. */
async function call<T>(procedure: string, input: unknown, method: 'GET' | 'POST'): Promise<T> {
  const token = readFileSync(path.join(dir, 'state/tokens/operator.token'), 'utf8').trim();
  const url = `http://127.0.0.1:${PORT}/trpc/${procedure}${method === 'GET' ? `?input=${encodeURIComponent(JSON.stringify(input))}` : ''}`;
  const res = await fetch(url, {
    method, headers: { authorization: `Bearer ${token}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: JSON.stringify(input) } : {}),
  });
  const body = await res.json() as { result?: { data: T }; error?: { message: string } };
  if (body.error) throw new Error(`${procedure}: ${body.error.message}`);
  return body.result!.data;
}
type Draft = { rev: number; edits: { id: number; text: string; by: string }[]; diff: string };

beforeAll(() => {
  sh('ipvsadm -C');
  ipvsadmRestore(`-A -t ${VIP}:80 -s rr\n-a -t ${VIP}:80 -r 172.31.3.1:80 -g -w 1\n-a -t ${VIP}:80 -r 172.31.3.2:80 -g -w 1\n`);
  dir = mkdtempSync(path.join(tmpdir(), 'draft-agent-'));
});

afterAll(async () => {
  if (agent && agent.proc.exitCode === null) await stopAgent(agent);
  sh('ipvsadm -C');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the change-set draft across a restart of the agent process', () => {
  it('the restarted agent answers the draft the first one kept, and applies it', async () => {
    const first = await startAgent();
    const edit = { op: 'destination.update', service: { kind: 'addr', family: 'inet', protocol: 'tcp', address: VIP, port: 80 }, destination: { family: 'inet', address: '172.31.3.2', port: 80 }, patch: { weight: 7 } };
    await call('changesets.stage', { edit }, 'POST');
    const before = await call<Draft>('changesets.get', { others: null }, 'GET');
    expect(before.edits.map((e) => e.text)).toEqual([`edit real server 172.31.3.2:80 of TCP ${VIP}:80: weight 7`]);
    expect(statSync(path.join(dir, 'state', DRAFT_FILE)).mode & 0o777).toBe(0o600);
    expect(await stopAgent(first)).not.toBe(-1);

    await startAgent();
    const after = await call<Draft>('changesets.get', { others: null }, 'GET');
    expect(after.rev).toBe(before.rev);
    expect(after.edits).toEqual(before.edits);
    expect(after.diff).toBe(before.diff);
    // the kernel was not touched by staging; applying the restored draft changes it
    expect(ipvsadm('-Sn')).toMatch(/-r 172\.31\.3\.2:80 -g -w 1/);
    await call('changesets.commit', { rev: after.rev }, 'POST');
    expect(ipvsadm('-Sn')).toMatch(/-r 172\.31\.3\.2:80 -g -w 7/);
    expect((await call<Draft>('changesets.get', { others: null }, 'GET')).edits).toEqual([]);
  }, 240_000);
});
