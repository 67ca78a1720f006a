/**
 * The rate history against the lab kernel: real SYNs move a service's counters, the hub samples them,
 * the history records them, and after a restart (hub and history closed, new ones opened over the same
 * state folder, as the agent does) history.get still answers the minute that carried the traffic.
 *
 *   root namespace: 10.78.0.0/16 is local (a route on lo), so SYNs to the VIP reach IPVS, which counts
 *   them on the service and the real server it picks (DR to 172.31.x: dropped there).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE_MS } from '@/lib/history/rings';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { serviceId } from '@/lib/ipvs/ids';
import { ipvsadmRestore, sh, tcp } from '../ipvs/kernel-test-helpers';
import { openIpvs } from '../ipvs/open';
import { callerFor, silentLog, VIEWER } from '../api/testing';
import { Journal } from '../table/journal';
import { Mutex } from '../table/mutex';
import { HISTORY_FILE, HistoryService } from './history';
import { TableHub } from './hub';
import { procIpvsFile, procTotalsFile } from './sampler';

const VIP = '10.78.0.1';
const SID = serviceId(tcp(VIP, 80));
let backend: IpvsBackend;
let stateDir: string;

beforeAll(async () => {
  backend = await openIpvs();
  await backend.flush();
  ipvsadmRestore(`-A -t ${VIP}:80 -s rr\n-a -t ${VIP}:80 -r 172.31.1.1:80 -g -w 1\n-a -t ${VIP}:80 -r 172.31.1.2:80 -g -w 1\n`);
  sh('ip route add local 10.78.0.0/16 dev lo');
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'history-state-'));
});

afterAll(async () => {
  sh('ip route del local 10.78.0.0/16 dev lo || true');
  await backend?.flush().catch(() => undefined);
  backend?.close();
});

/** The agent's pieces over one state folder: a hub sampling every 500 ms (as with a page open) and the history on it. */
async function agent() {
  const hub = new TableHub({ backend, log: silentLog, tickMs: 500, idleSampleMs: 500, structure: procIpvsFile(), totals: procTotalsFile() });
  const history = await HistoryService.open({ stateDir, log: silentLog });
  history.attach(hub);
  hub.start();
  const deps = { backend, journal: await Journal.open(null), hub, writeLock: new Mutex(), log: silentLog, conns: null, version: 'test', startedAt: Date.now(), history };
  return { hub, history, api: callerFor(deps, VIEWER) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('rate history in the kernel', () => {
  it('records real traffic per tick and per minute, and keeps the minutes across a restart', async () => {
    const first = await agent();
    // SYNs for ~8 s, five a second (each a new connection to IPVS; DR drops them beyond, so each gives up after 1 s)
    const syns = spawn('bash', ['-c', `for i in $(seq 1 40); do timeout 1 bash -c 'echo > /dev/tcp/${VIP}/80' 2>/dev/null & sleep 0.2; done; wait`], { stdio: 'ignore' });
    await new Promise((r) => syns.on('exit', r));
    // the kernel sums its per-CPU counters every 2 s
    await sleep(4000);
    const ticks = await first.api.history.get({ service: SID, range: '15m' });
    expect(ticks!.at.length).toBeGreaterThan(10);
    const peak = Math.max(...ticks!.service!.cps.map((v) => v ?? 0));
    expect(peak, JSON.stringify(ticks!.service!.cps)).toBeGreaterThan(1);
    expect(ticks!.dests.map((d) => d.id).sort()).toEqual(['172.31.1.1:80', '172.31.1.2:80']);
    expect(ticks!.dests.every((d) => d.v.cps.some((v) => (v ?? 0) > 0))).toBe(true);
    // wait for the minute of the traffic to close (a sample in the next minute closes it)
    const trafficMinute = Math.floor(Date.now() / MINUTE_MS);
    await sleep((trafficMinute + 1) * MINUTE_MS - Date.now() + 1500);
    const before = await first.api.history.get({ service: SID, range: '24h' });
    expect(before!.at.length).toBeGreaterThanOrEqual(1);

    // restart: what the agent does on SIGTERM, then a new agent over the same state folder
    first.hub.close();
    await first.history.save();
    expect((await stat(path.join(stateDir, HISTORY_FILE))).mode & 0o777).toBe(0o600);
    const second = await agent();
    try {
      const after = await second.api.history.get({ service: SID, range: '24h' });
      expect(after!.at).toEqual(before!.at);
      expect(after!.service!.cps).toEqual(before!.service!.cps);
      expect(Math.max(...after!.service!.cps.map((v) => v ?? 0))).toBeGreaterThan(0.1);
      expect(after!.dests.map((d) => d.id).sort()).toEqual(['172.31.1.1:80', '172.31.1.2:80']);
      // the 15-minute view of the restarted agent opens with those minutes, before its own ticks
      const fifteen = await second.api.history.get({ service: SID, range: '15m' });
      expect(fifteen!.ms.slice(0, before!.at.length).every((m) => m === MINUTE_MS)).toBe(true);
      // a service that is gone when the new agent first reads the table loses its history
      await sleep(1200);
      ipvsadmRestore(`-D -t ${VIP}:80\n`);
      second.hub.poke();
      await sleep(1500);
      expect((await second.api.history.get({ service: SID, range: '24h' }))!.service).toBeNull();
    } finally {
      second.hub.close();
    }
  });
});
