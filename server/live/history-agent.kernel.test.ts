/**
 * Issue 25's "after an agent restart the 24-hour view still holds the last day", on the `director agent`
 * process itself (bin/director.mjs, as an operator starts it): real SYNs move a service's counters while a
 * WebSocket subscriber keeps the hub sampling every tick, the minute of the traffic closes, history.get reads it,
 * the agent is stopped with SIGTERM (what systemd sends on a restart) and started again over the same state
 * folder, and the new process answers the same minutes.
 *
 *   root namespace: 10.79.0.0/16 is local (a route on lo), so SYNs to the VIP reach IPVS, which counts them on
 *   the service and the real server it picks (DR to 172.31.x: dropped there).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { serviceId } from '@/lib/ipvs/ids';
import type { AppRouter } from '../api/router';
import { WS_PATH } from '../api/server';
import { ipvsadmRestore, sh, tcp } from '../ipvs/kernel-test-helpers';
import { HISTORY_FILE } from './history';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PORT = 9583;
const VIP = '10.79.0.1';
const SID = serviceId(tcp(VIP, 80));

let dir: string;
let agent: { proc: ChildProcess; log: () => string } | null = null;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string, stepMs = 500): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${agent ? `\nagent log:\n${agent.log()}` : ''}`);
    await sleep(stepMs);
  }
}

/** `director agent` as its own process over the state folder; resolves once /healthz answers. */
async function startAgent(): Promise<{ proc: ChildProcess; log: () => string }> {
  let out = '';
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/director.mjs'), 'agent', '--listen', `127.0.0.1:${PORT}`,
    '--state-dir', path.join(dir, 'state'), '--tick-ms', '500', '--log-level', 'warn'],
  { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' } });
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const a = { proc, log: () => out };
  agent = a;
  await until(async () => {
    if (proc.exitCode !== null) throw new Error(`the agent exited (${proc.exitCode}):\n${out}`);
    return (await fetch(`http://127.0.0.1:${PORT}/healthz`)).ok;
  }, 90_000, 'the agent to answer /healthz', 300).catch((e: unknown) => {
    if (proc.exitCode !== null) throw new Error(`the agent exited (${proc.exitCode}):\n${out}`);
    throw e;
  });
  return a;
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

function client(token: string) {
  const wsc = createWSClient({
    url: `ws://127.0.0.1:${PORT}${WS_PATH}`,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: { token },
  });
  return { wsc, c: createTRPCClient<AppRouter>({ links: [wsLink({ client: wsc })] }) };
}

/** minute end -> new connections/s, the minutes that carried something */
function minutes(h: { at: number[]; service: { cps: (number | null)[] } | null }): Map<number, number> {
  return new Map(h.at.flatMap((at, i) => { const v = h.service?.cps[i]; return v ? [[at, v] as const] : []; }));
}

beforeAll(() => {
  sh('ipvsadm -C; ip route del local 10.79.0.0/16 dev lo 2>/dev/null; true');
  ipvsadmRestore(`-A -t ${VIP}:80 -s rr\n-a -t ${VIP}:80 -r 172.31.2.1:80 -g -w 1\n-a -t ${VIP}:80 -r 172.31.2.2:80 -g -w 1\n`);
  sh('ip route add local 10.79.0.0/16 dev lo');
  dir = mkdtempSync(path.join(tmpdir(), 'history-agent-'));
});

afterAll(async () => {
  if (agent && agent.proc.exitCode === null) await stopAgent(agent);
  sh('ipvsadm -C; ip route del local 10.79.0.0/16 dev lo 2>/dev/null; true');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rate history across a restart of the agent process', () => {
  it('the 24-hour view of the restarted agent holds the minutes the first one recorded', async () => {
    const first = await startAgent();
    const token = readFileSync(path.join(dir, 'state/tokens/viewer.token'), 'utf8').trim();
    const { c, wsc } = client(token);
    let before: Awaited<ReturnType<typeof c.history.get.query>>;
    try {
      // a subscriber, as an open page: the hub samples every tick instead of once a minute
      let started = false;
      const sub = c.table.onChange.subscribe({}, { onStarted: () => { started = true; }, onData: () => {}, onError: () => {} });
      await until(async () => started, 30_000, 'the subscription to start', 50);
      // SYNs for ~8 s, five a second (each a new connection to IPVS; DR drops them beyond, so each gives up after 1 s)
      const syns = spawn('bash', ['-c', `for i in $(seq 1 40); do timeout 1 bash -c 'echo > /dev/tcp/${VIP}/80' 2>/dev/null & sleep 0.2; done; wait`], { stdio: 'ignore' });
      await new Promise((r) => syns.on('exit', r));
      // the minute of the traffic closes with the first sample of the next one (the kernel sums its counters every 2 s)
      before = await until(async () => {
        const h = await c.history.get.query({ service: SID, range: '24h' });
        return h && [...minutes(h).values()].some((v) => v > 0.1) ? h : null;
      }, 150_000, 'a closed minute with traffic in the 24-hour view', 1000);
      sub.unsubscribe();
    } finally {
      wsc.close();
    }
    const kept = minutes(before!);
    console.log(`first agent, 24 h view: ${[...kept].map(([at, v]) => `${new Date(at).toISOString().slice(11, 16)} ${v.toFixed(2)}/s`).join(', ')}`);

    // restart: SIGTERM (the agent writes the minutes since its last periodic write), then a new process
    const t0 = Date.now();
    expect(await stopAgent(first)).toBe(0);
    expect(statSync(path.join(dir, 'state', HISTORY_FILE)).mode & 0o777).toBe(0o600);
    await startAgent();
    console.log(`agent restarted in ${Date.now() - t0} ms`);
    const second = client(token);
    try {
      const after = await second.c.history.get.query({ service: SID, range: '24h' });
      const back = minutes(after!);
      // every minute the first agent answered, with the same rate (a minute that closed during the stop may be added)
      for (const [at, v] of kept) expect(back.get(at), new Date(at).toISOString()).toBe(v);
      expect(after!.dests.map((d) => d.id).sort()).toEqual(['172.31.2.1:80', '172.31.2.2:80']);
    } finally {
      second.wsc.close();
    }
  }, 480_000);
});
