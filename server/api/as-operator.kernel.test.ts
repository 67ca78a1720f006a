/**
 * Issue 23's "done when", on an agent started as an operator starts it: the
 * `director` command (bin/director.mjs) as its own process, tokens it
 * generated in its state folder, a root-owned checks folder, no test hooks.
 * From outside, over HTTP only:
 *   - writes without a token or with the viewer's token change nothing;
 *   - a dozen wrong tokens do not lock out the right one;
 *   - a viewer's 64 MiB body is refused, the agent's RSS stays under 300 MB
 *     and /healthz under 2 s meanwhile;
 *   - an operator cannot make it run a command;
 *   - a hostile real server against ^(a+)+$ leaves /healthz under 1 s.
 *
 *   root (director) 172.21.0.1/24 ── o-h ── eth0 172.21.0.2/24  ho (HTTP :80, hostile body)
 *   NAT: 10.8.1.100:80 -> 172.21.0.2:80
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipvsadm, savedLines, sh } from '../ipvs/kernel-test-helpers';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PORT = 9581;
const BASE = `http://127.0.0.1:${PORT}`;
const VIP = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.8.1.100', port: 80 };
const RS = { family: 'inet', address: '172.21.0.2', port: 80, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0 };

const SETUP = `
set -e
ip netns add ho
ip link add o-h type veth peer name eth0 netns ho
ip addr add 172.21.0.1/24 dev o-h; ip link set o-h up
ip -n ho addr add 172.21.0.2/24 dev eth0; ip -n ho link set eth0 up; ip -n ho link set lo up
`;
const TEARDOWN = 'ip netns del ho 2>/dev/null || true';
// 40 a's and a character that cannot match: exponential for a backtracking ^(a+)+$
const SERVER = `require('http').createServer((q, r) => r.end('a'.repeat(40) + '!')).listen(80, '0.0.0.0', () => console.log('ready'));`;

let dir: string;
let agent: ChildProcess | null = null;
let realServer: ChildProcess | null = null;
let agentLog = '';
let tokens: { viewer: string; operator: string };
let marker: string;

/** The process that serves: bin/director.mjs runs the sources in a child when there is no bundle. */
function servingPid(): number {
  const pid = agent!.pid!;
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return kids[0] ?? pid;
}
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function call(proc: string, input: unknown, token: string | null): Promise<{ status: number; text: string }> {
  const res = await fetch(`${BASE}/trpc/${proc}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(input),
  });
  return { status: res.status, text: await res.text() };
}

async function healthzMs(): Promise<number> {
  const t0 = performance.now();
  await (await fetch(`${BASE}/healthz`)).arrayBuffer();
  return performance.now() - t0;
}

/** Asks /healthz every 50 ms while `during` runs; the slowest answer. */
async function worstHealthz<T>(during: Promise<T>): Promise<{ worst: number; result: T }> {
  let done = false;
  let worst = 0;
  const poll = (async () => {
    while (!done) {
      worst = Math.max(worst, await healthzMs());
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const result = await during.finally(() => { done = true; });
  await poll;
  return { worst, result };
}

beforeAll(async () => {
  sh(TEARDOWN);
  sh(SETUP);
  ipvsadm('-C');
  ipvsadm('-A', '-t', '10.8.1.100:80', '-s', 'rr');
  ipvsadm('-a', '-t', '10.8.1.100:80', '-r', '172.21.0.2:80', '-m', '-w', '1');
  dir = mkdtempSync(path.join(tmpdir(), 'as-operator-'));
  marker = path.join(dir, 'owned');
  const checks = path.join(dir, 'checks.d');
  mkdirSync(checks, { mode: 0o755 });
  writeFileSync(path.join(checks, 'up'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/director.mjs'), 'agent', '--listen', `127.0.0.1:${PORT}`,
    '--state-dir', path.join(dir, 'state'), '--checks-dir', checks, '--tick-ms', '500', '--log-level', 'warn'],
  { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' } });
  agent = proc;
  proc.stdout!.on('data', (d: Buffer) => { agentLog += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { agentLog += d.toString(); });
  const until = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the agent exited (${proc.exitCode}):\n${agentLog}`);
    if (await healthzMs().then(() => true, () => false)) break;
    if (Date.now() > until) throw new Error(`the agent did not answer /healthz within 60 s:\n${agentLog}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  const tokenDir = path.join(dir, 'state', 'tokens');
  tokens = Object.fromEntries(readdirSync(tokenDir).map((f) => [f.replace(/\.token$/, ''), readFileSync(path.join(tokenDir, f), 'utf8').trim()])) as typeof tokens;
  realServer = spawn('ip', ['netns', 'exec', 'ho', process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    realServer!.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    realServer!.once('exit', (code) => reject(new Error(`real server exited (${code}) before listening`)));
  });
}, 120_000);

afterAll(async () => {
  realServer?.kill('SIGKILL');
  if (agent && agent.exitCode === null) {
    agent.kill('SIGTERM');
    await new Promise((r) => { agent!.once('exit', r); setTimeout(r, 10_000); });
  }
  ipvsadm('-C');
  sh(TEARDOWN);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('an agent started as an operator starts it, attacked over HTTP (issue 23)', () => {
  it('printed where its tokens are, never the tokens', () => {
    expect(tokens.viewer.length).toBeGreaterThanOrEqual(32);
    expect(tokens.operator.length).toBeGreaterThanOrEqual(32);
    expect(agentLog).not.toContain(tokens.viewer);
    expect(agentLog).not.toContain(tokens.operator);
  });

  it('writes without a token or with the viewer token change nothing', async () => {
    const before = savedLines();
    const create = { service: { key: { ...VIP, port: 81 }, scheduler: 'rr' }, destinations: [] };
    expect((await call('services.create', create, null)).status).toBe(401);
    expect((await call('services.create', create, tokens.viewer)).status).toBe(403);
    expect((await call('services.remove', { key: VIP }, tokens.viewer)).status).toBe(403);
    expect(savedLines()).toEqual(before);
  });

  it('a dozen wrong tokens do not lock out the right one', async () => {
    // refused, then slowed down (429) by the limiter for this address
    for (let i = 0; i < 12; i++) expect([401, 429]).toContain((await call('services.list', {}, `wrong_${'x'.repeat(40)}${i}`)).status);
    const ok = await fetch(`${BASE}/trpc/services.list`, { headers: { authorization: `Bearer ${tokens.operator}` } });
    expect(ok.status).toBe(200);
    const metrics = await fetch(`${BASE}/metrics`, { headers: { authorization: `Bearer ${tokens.viewer}` } });
    expect(metrics.status).toBe(200);
  });

  it("a viewer's 64 MiB body is refused; RSS stays under 300 MB and /healthz under 2 s", async () => {
    const pid = servingPid();
    let peak = rssMb(pid);
    const sampler = setInterval(() => { try { peak = Math.max(peak, rssMb(pid)); } catch { /* gone */ } }, 50);
    const upload = new Promise<{ status: number; ms: number; error?: string }>((resolve) => {
      const t0 = performance.now();
      const req = request(`${BASE}/trpc/snapshot.plan`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.viewer}`, 'content-length': 64 * 1024 * 1024 },
      }, (res) => { res.resume(); resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }); });
      // the agent may close the socket while this still writes; an answer read before that counts
      req.on('error', (e) => setTimeout(() => resolve({ status: -1, ms: performance.now() - t0, error: e.message }), 100));
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < 64 && !req.destroyed) {
          sent++;
          if (!req.write(chunk)) { req.once('drain', pump); return; }
        }
        if (!req.destroyed) req.end();
      };
      pump();
    });
    const { worst, result } = await worstHealthz(upload);
    clearInterval(sampler);
    console.log(`64 MiB viewer body: HTTP ${result.status}${result.error ? ` (${result.error})` : ''} in ${result.ms.toFixed(0)} ms, agent RSS peak ${peak.toFixed(0)} MB, /healthz worst ${worst.toFixed(0)} ms`);
    expect(result.status).toBe(413);
    expect(result.ms).toBeLessThan(1000);
    expect(peak).toBeLessThan(300);
    expect(worst).toBeLessThan(2000);
  }, 60_000);

  it('an operator cannot make it run a command', async () => {
    const before = savedLines();
    const command = { type: 'misc', command: `touch ${marker}`, dynamic: false, timing: { delayLoop: 0.1, warmup: 0 } };
    const set = await call('health.config.set', { config: { service: VIP, realServers: [{ destination: RS, checks: [command] }] } }, tokens.operator);
    expect(set.status).toBe(400);
    expect(set.text).toMatch(/command/);
    const now = await call('health.checkNow', { service: VIP, destination: { family: 'inet', address: RS.address, port: RS.port }, check: command }, tokens.operator);
    expect(now.status).toBe(400);
    for (const script of ['../../../bin/sh', '/bin/sh', 'up -c id', 'up;id']) {
      const r = await call('health.checkNow', { service: VIP, destination: { family: 'inet', address: RS.address, port: RS.port }, check: { type: 'misc', script } }, tokens.operator);
      expect(r.status, script).toBe(400);
      expect(r.text, script).toMatch(/script/);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(marker)).toBe(false);
    expect(savedLines()).toEqual(before);
  });

  it('^(a+)+$ against a hostile real server leaves /healthz under 1 s', async () => {
    const check = { type: 'http', urls: [{ path: '/', statusCodes: ['200'], regex: '^(a+)+$' }], timing: { delayLoop: 0.5, warmup: 0, retry: 0, connectTimeout: 2 } };
    const set = await call('health.config.set', { config: { service: VIP, realServers: [{ destination: RS, checks: [check] }] } }, tokens.operator);
    expect(set.status, set.text).toBe(200);
    const probe = (async () => {
      const all: number[] = [];
      const until = Date.now() + 4000;
      while (Date.now() < until) {
        all.push(await healthzMs());
        await new Promise((r) => setTimeout(r, 50));
      }
      return all;
    })();
    const now = await call('health.checkNow', { service: VIP, destination: { family: 'inet', address: RS.address, port: RS.port } }, tokens.operator);
    const all = await probe;
    await call('health.config.remove', { service: VIP }, tokens.operator);
    const sorted = [...all].sort((a, b) => a - b);
    console.log(`hostile regex, separate agent process: /healthz worst ${sorted.at(-1)!.toFixed(0)} ms, median ${sorted[sorted.length >> 1]!.toFixed(0)} ms over ${all.length} requests`);
    expect(now.status, now.text).toBe(200);
    expect(now.text).toMatch(/did not match/);
    expect(now.text).not.toContain('aaaa');
    expect(sorted.at(-1)!).toBeLessThan(1000);
  }, 60_000);
});
