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
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, until } from '../cli/agent-process-testing';
import WebSocket from 'ws';
import { serviceId } from '@/lib/ipvs/ids';
import type { AppRouter } from '../api/router';
import { WS_PATH } from '../api/server';
import { ipvsadmRestore, sh, tcp } from '../ipvs/kernel-test-helpers';
import { HISTORY_FILE } from './history';

const PORT = 9583;
const VIP = '10.79.0.1';
const SID = serviceId(tcp(VIP, 80));

let dir: string;
let agent: AgentProcess | null = null;

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
  if (agent?.running) await agent.stop();
  sh('ipvsadm -C; ip route del local 10.79.0.0/16 dev lo 2>/dev/null; true');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rate history across a restart of the agent process', () => {
  it('the 24-hour view of the restarted agent holds the minutes the first one recorded', async () => {
    const first = (agent = await AgentProcess.start(PORT, path.join(dir, 'state'), ['--tick-ms', '500']));
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
    expect(await first.stop()).toBe(0);
    expect(statSync(path.join(dir, 'state', HISTORY_FILE)).mode & 0o777).toBe(0o600);
    (agent = await AgentProcess.start(PORT, path.join(dir, 'state'), ['--tick-ms', '500']));
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
