/**
 * Issue 23's "done when" for health checks, on a real agent server in the
 * lab kernel: a hostile real server (a body built for ^(a+)+$) leaves
 * /healthz answering fast, and an operator cannot make the agent run a
 * command: command strings are refused, scripts outside the root-owned
 * checks folder do not run, the one valid script runs without capabilities.
 * The IPVS table is the same after every refusal.
 *
 *   root (director) 172.20.0.1/24 ── x-h ── eth0 172.20.0.2/24  hx (HTTP :80, hostile body)
 *   NAT: 10.8.0.100:80 -> 172.20.0.2:80
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { dst, ipvsadm, sh, tcp } from '../ipvs/kernel-test-helpers';
import { openIpvs } from '../ipvs/open';
import { Auth } from '../api/auth';
import { kernelHub, type TableHub } from '../live/hub';
import { Journal } from '../table/journal';
import { Mutex } from '../table/mutex';
import { startAgentServer, type AgentServer } from '../api/server';
import { HealthService } from './service';

const log = pino({ level: 'warn' }, pino.destination(2));
const TOKENS = { viewer: 'viewer_' + 'h'.repeat(40), operator: 'operator_' + 'H'.repeat(40) };
const VIP = tcp('10.8.0.100', 80);
const RS = dst('172.20.0.2', 80, { forward: 'nat', weight: 1 });
const RS_KEY = { family: 'inet', address: RS.address, port: RS.port };

const SETUP = `
set -e
ip netns add hx
ip link add x-h type veth peer name eth0 netns hx
ip addr add 172.20.0.1/24 dev x-h; ip link set x-h up
ip -n hx addr add 172.20.0.2/24 dev eth0; ip -n hx link set eth0 up; ip -n hx link set lo up
`;
const TEARDOWN = 'ip netns del hx 2>/dev/null || true';
// 40 a's and a character that cannot match: exponential for a backtracking ^(a+)+$
const SERVER = `require('http').createServer((q, r) => r.end('a'.repeat(40) + '!')).listen(80, '0.0.0.0', () => console.log('ready'));`;

let backend: IpvsBackend;
let hub: TableHub;
let health: HealthService;
let srv: AgentServer;
let realServer: ChildProcess | null = null;
let base: string;
let marker: string;

async function call(proc: string, input: unknown): Promise<{ status: number; body: { result?: { data?: unknown }; error?: { message: string; data?: { code?: string; zodError?: { issues: { path: string; message: string }[] } } } } }> {
  const res = await fetch(`${srv.url}/trpc/${proc}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.operator}` }, body: JSON.stringify(input),
  });
  return { status: res.status, body: await res.json() as never };
}

beforeAll(async () => {
  sh(TEARDOWN);
  sh(SETUP);
  base = mkdtempSync(path.join(tmpdir(), 'hostile-'));
  chmodSync(base, 0o755);
  marker = path.join(base, 'owned');
  const checks = path.join(base, 'checks.d');
  mkdirSync(checks, { mode: 0o755 });
  // reports through its exit code whether anything of the agent's privilege or environment came along
  writeFileSync(path.join(checks, 'inspect'), `#!/bin/sh
grep -q '^CapEff:[[:space:]]*0000000000000000$' /proc/self/status || exit 10
grep -q '^CapAmb:[[:space:]]*0000000000000000$' /proc/self/status || exit 11
grep -q '^CapBnd:[[:space:]]*0000000000000000$' /proc/self/status || exit 12
[ "$(id -u)" != 0 ] || exit 13
[ "$1:$2" = 172.20.0.2:80 ] || exit 14
[ -z "$HOME$USER$DIRECTOR_STATE_DIR" ] || exit 15
exit 0
`, { mode: 0o755 });
  writeFileSync(path.join(checks, 'writable'), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
  chmodSync(path.join(checks, 'writable'), 0o777);
  backend = await openIpvs();
  await backend.flush();
  ipvsadm('-A', '-t', '10.8.0.100:80', '-s', 'rr');
  ipvsadm('-a', '-t', '10.8.0.100:80', '-r', '172.20.0.2:80', '-m', '-w', '1');
  hub = kernelHub({ backend, log, tickMs: 250 });
  hub.start();
  const journal = await Journal.open(null);
  const writeLock = new Mutex();
  health = await HealthService.open({ backend, writeLock, journal, log, stateDir: path.join(base, 'state'), reloadMs: 0, checksDir: checks });
  await health.start();
  srv = await startAgentServer({
    deps: { backend, hub, journal, writeLock, log, conns: null, health, version: 'kernel-test', startedAt: Date.now() },
    auth: Auth.fromTokens(TOKENS, log),
    listen: { host: '127.0.0.1', port: 0 },
    allowOrigins: [],
  });
  realServer = spawn('ip', ['netns', 'exec', 'hx', process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    realServer!.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    realServer!.once('exit', (code) => reject(new Error(`real server exited (${code}) before listening`)));
  });
}, 60_000);

afterAll(async () => {
  realServer?.kill('SIGKILL');
  health?.stop();
  await srv?.close();
  hub?.close();
  await backend?.flush().catch(() => undefined);
  backend?.close();
  sh(TEARDOWN);
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('a hostile real server and a hostile operator, on a real agent in the lab kernel', () => {
  it('^(a+)+$ against the hostile body: checks fail with a message, /healthz stays fast', async () => {
    const check = { type: 'http', urls: [{ path: '/', statusCodes: ['200'], regex: '^(a+)+$' }], timing: { delayLoop: 0.5, warmup: 0, retry: 0, connectTimeout: 2 } };
    await fetch(`${srv.url}/healthz`); // warm: the first request compiles the paths
    const set = await call('health.config.set', { config: { service: VIP, realServers: [{ destination: RS, checks: [check] }] } });
    expect(set.status).toBe(200);
    const probe = (ms: number) => (async () => {
      let worst = 0, answered = 0;
      const all: number[] = [];
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const t0 = performance.now();
        await (await fetch(`${srv.url}/healthz`)).arrayBuffer();
        worst = Math.max(worst, performance.now() - t0);
        all.push(Math.round(performance.now() - t0));
        answered++;
        await new Promise((res) => setTimeout(res, 50));
      }
      const median = [...all].sort((x, y) => x - y)[Math.floor(all.length / 2)] ?? 0;
      return { worst, answered, median };
    })();
    const poll = probe(3000);
    const nows = await Promise.all(Array.from({ length: 5 }, () => call('health.checkNow', { service: VIP, destination: RS_KEY })));
    const { worst, answered, median } = await poll;
    await call('health.config.remove', { service: VIP });
    const quiet = await probe(2000);
    console.log(`hostile regex: /healthz worst ${worst.toFixed(1)} ms, median ${median} ms over ${answered} requests in 3 s, with checks every 0.5 s and 5 checkNow; `
      + `without checks: worst ${quiet.worst.toFixed(1)} ms, median ${quiet.median} ms over ${quiet.answered}`);
    for (const n of nows) {
      expect(n.status).toBe(200);
      expect(n.body.result?.data).toMatchObject({ ok: false, results: [{ ok: false, message: 'HTTP 200, body did not match the regex' }] });
    }
    // the issue's bound; before the fix one check of this body never ended, and nothing else ran meanwhile
    expect(worst).toBeLessThan(1000);
    expect(answered).toBeGreaterThanOrEqual(3);
  });

  it('an operator cannot make the agent run a command; the table does not move', async () => {
    const before = ipvsadm('-Sn');
    const cmd = { type: 'misc', command: `touch ${marker}` };
    const now = await call('health.checkNow', { service: VIP, destination: RS_KEY, check: cmd });
    expect(now.status).toBe(400);
    expect(now.body.error?.data?.zodError?.issues.map((i) => i.path)).toContain('check.command');
    const set = await call('health.config.set', { config: { service: VIP, timing: { delayLoop: 0.1, warmup: 0 }, realServers: [{ destination: RS, checks: [cmd] }] } });
    expect(set.status).toBe(400);
    for (const script of ['../../../usr/bin/touch', '/usr/bin/touch']) {
      const r = await call('health.checkNow', { service: VIP, destination: RS_KEY, check: { type: 'misc', script } });
      expect(r.status, script).toBe(400);
    }
    // in the folder but world-writable: refused at run time, never run
    const w = await call('health.checkNow', { service: VIP, destination: RS_KEY, check: { type: 'misc', script: 'writable' } });
    expect(w.body.result?.data).toMatchObject({ ok: false, results: [{ message: 'not run: script writable is group- or world-writable (mode 0777)' }] });
    await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(marker)).toBe(false);
    expect(ipvsadm('-Sn')).toBe(before);
  });

  it('the one valid script runs as nobody with no capabilities and only its target', async () => {
    const r = await call('health.checkNow', { service: VIP, destination: RS_KEY, check: { type: 'misc', script: 'inspect' } });
    expect(r.body.result?.data).toMatchObject({ ok: true, results: [{ ok: true, message: 'exit 0', check: 'script inspect' }] });
  });
});
