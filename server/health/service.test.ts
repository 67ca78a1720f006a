/**
 * The health subsystem end to end on the stateful fake kernel: scripted
 * check results and fake timers drive transitions; the table, the journal
 * and the history show what the actions did.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceKey } from '@/lib/ipvs/model';
import { healthServiceSchema, type HealthServiceInput } from '@/lib/schemas/health';
import { Journal } from '../table/journal';
import { Mutex } from '../table/mutex';
import { silentLog } from '../api/testing';
import { FakeIpvs } from '../ipvs/fake';
import type { CheckResult } from './checkers/types';
import { HealthService, type RunCheck } from './service';

const SVC: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 80 };
const rs = (last: number, weight = 1): DestinationSpec => ({
  family: 'inet', address: `192.168.150.${last}`, port: 80, forward: 'dr', weight, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL },
});
const RS1 = rs(12, 3), RS2 = rs(13, 5), SORRY = rs(250, 1);
const HTTP = { type: 'http' as const, urls: [{ path: '/' }] };

/** Which addresses answer: checks read this map. */
const alive = new Map<string, boolean>();
const calls: string[] = [];
const scripted: RunCheck = async (dest): Promise<CheckResult> => {
  calls.push(dest.address);
  return alive.get(dest.address) !== false ? { ok: true, message: 'HTTP 200', durationMs: 4 } : { ok: false, message: 'HTTP 503', durationMs: 7 };
};

async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await vi.advanceTimersByTimeAsync(0);
}

async function weights(fake: FakeIpvs): Promise<Record<string, number>> {
  return Object.fromEntries((await fake.listDestinations(SVC)).map((d) => [d.address, d.weight]));
}

function cfg(over: Partial<HealthServiceInput> = {}) {
  return healthServiceSchema.parse({
    service: SVC,
    timing: { delayLoop: 6, retry: 1, delayBeforeRetry: 1, warmup: 0, connectTimeout: 2 },
    realServers: [{ destination: RS1, checks: [HTTP] }, { destination: RS2, checks: [HTTP] }],
    ...over,
  });
}

describe('HealthService on the fake kernel', () => {
  let fake: FakeIpvs;
  let health: HealthService;
  let journal: Journal;

  async function open(stateDir: string | null = null) {
    health = await HealthService.open({ backend: fake, writeLock: new Mutex(), journal, log: silentLog, stateDir, runCheck: scripted, reloadMs: 0 });
    await health.start();
  }

  beforeEach(async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    alive.clear();
    calls.length = 0;
    fake = new FakeIpvs();
    journal = await Journal.open(null);
    await fake.addService({ key: SVC, scheduler: 'wrr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null });
    await fake.addDestination(SVC, RS1);
    await fake.addDestination(SVC, RS2);
  });
  afterEach(() => {
    health?.stop();
    vi.useRealTimers();
  });

  it('quiesces a failed server after its retries, restores the configured weight on recovery', async () => {
    await open();
    await health.setConfig(cfg());
    await settle();
    expect(health.list().map((r) => [r.destinationId, r.state])).toEqual([['192.168.150.12:80', 'up'], ['192.168.150.13:80', 'up']]);
    alive.set(RS2.address, false);
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    expect(await weights(fake)).toEqual({ '192.168.150.12': 3, '192.168.150.13': 5 }); // one failure, one retry left
    await vi.advanceTimersByTimeAsync(1000);
    await settle();
    expect(await weights(fake)).toEqual({ '192.168.150.12': 3, '192.168.150.13': 0 });
    const row = health.list().find((r) => r.destination.address === RS2.address)!;
    expect(row).toMatchObject({ state: 'down', message: 'HTTP 503', latencyMs: 7, since: 1_007_000 });
    alive.set(RS2.address, true);
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    expect(await weights(fake)).toEqual({ '192.168.150.12': 3, '192.168.150.13': 5 });
    const h = health.history({ limit: 10 });
    expect(h.map((e) => [e.destination.address, e.from, e.to, e.action])).toEqual([
      ['192.168.150.13', 'down', 'up', 'weight 0 -> 5'],
      ['192.168.150.13', 'up', 'down', 'weight 5 -> 0'],
      ['192.168.150.13', 'unknown', 'up', 'weight already 5'],
      ['192.168.150.12', 'unknown', 'up', 'weight already 3'],
    ]);
    const ops = journal.list({ limit: 10 }).map((e) => [e.op, e.tokenName]);
    expect(ops).toEqual([['health.up', 'health-check'], ['health.down', 'health-check']]);
  });

  it('remove mode deletes the real server and re-adds it with its full spec', async () => {
    await open();
    await health.setConfig(cfg({ onFailure: 'remove', timing: { delayLoop: 6, retry: 0, warmup: 0 } }));
    await settle();
    alive.set(RS1.address, false);
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    expect(await weights(fake)).toEqual({ '192.168.150.13': 5 });
    alive.set(RS1.address, true);
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    expect((await fake.listDestinations(SVC)).find((d) => d.address === RS1.address)).toMatchObject({ weight: 3, forward: 'dr', port: 80 });
  });

  it('adds the sorry server when every real server is down and removes it when one recovers', async () => {
    await open();
    await health.setConfig(cfg({ sorryServer: SORRY, timing: { delayLoop: 6, retry: 0, warmup: 0 } }));
    await settle();
    alive.set(RS1.address, false);
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    expect(await weights(fake)).toEqual({ '192.168.150.12': 0, '192.168.150.13': 5 });
    alive.set(RS2.address, false);
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    expect(await weights(fake)).toEqual({ '192.168.150.12': 0, '192.168.150.13': 0, '192.168.150.250': 1 });
    alive.set(RS1.address, true);
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    expect(await weights(fake)).toEqual({ '192.168.150.12': 3, '192.168.150.13': 0 });
  });

  it('keeps the last server in service when a check fails everywhere (minimum in service)', async () => {
    await open();
    await health.setConfig(cfg({ minInService: 1, timing: { delayLoop: 6, retry: 0, warmup: 0 } }));
    await settle();
    alive.set(RS1.address, false);
    alive.set(RS2.address, false);
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    // one goes out; the other is the last one passing... until it fails too, and stays in
    const w = await weights(fake);
    expect(Object.values(w).filter((x) => x > 0)).toHaveLength(1);
    const keptRow = health.list().find((r) => r.kept)!;
    expect(keptRow).toMatchObject({ state: 'down', kept: true });
    expect(health.history({ limit: 10 }).some((e) => /kept in service: 0 other real servers pass, the minimum in service is 1/.test(e.action))).toBe(true);
    // the other recovers: the kept one is no longer needed and goes out
    const outAddr = Object.entries(w).find(([, x]) => x === 0)![0];
    alive.set(outAddr, true);
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    const after = await weights(fake);
    expect(after[outAddr]).toBeGreaterThan(0);
    expect(after[keptRow.destination.address]).toBe(0);
    expect(health.list().some((r) => r.kept)).toBe(false);
  });

  it('without a minimum, a check failing everywhere takes every server out (keepalived)', async () => {
    await open();
    await health.setConfig(cfg({ timing: { delayLoop: 6, retry: 0, warmup: 0 } }));
    await settle();
    alive.set(RS1.address, false);
    alive.set(RS2.address, false);
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    expect(await weights(fake)).toEqual({ '192.168.150.12': 0, '192.168.150.13': 0 });
  });

  it('hysteresis: kept servers go out only once the minimum plus the hysteresis pass', async () => {
    const RS3 = rs(14, 2);
    await fake.addDestination(SVC, RS3);
    await open();
    await health.setConfig(cfg({
      minInService: 1, hysteresis: 1, timing: { delayLoop: 6, retry: 0, warmup: 0 },
      realServers: [{ destination: RS1, checks: [HTTP] }, { destination: RS2, checks: [HTTP] }, { destination: RS3, checks: [HTTP] }],
    }));
    await settle();
    for (const a of [RS1, RS2, RS3]) alive.set(a.address, false);
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    const kept = health.list().filter((r) => r.kept).map((r) => r.destination.address);
    expect(kept).toHaveLength(1);
    const out = [RS1, RS2, RS3].map((d) => d.address).filter((a) => !kept.includes(a));
    alive.set(out[0]!, true); // one passes: the minimum, not the hysteresis
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    expect(health.list().filter((r) => r.kept).map((r) => r.destination.address)).toEqual(kept);
    alive.set(out[1]!, true); // two pass: kept ones go out
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    expect(health.list().some((r) => r.kept)).toBe(false);
    expect((await weights(fake))[kept[0]!]).toBe(0);
  });

  it('ramps a recovered weight up over the configured time', async () => {
    await open();
    // 10 steps from 1 to 10 over 9 s: one a second
    await health.setConfig(cfg({ rampUpSec: 9, timing: { delayLoop: 60, retry: 0, warmup: 0 }, realServers: [{ destination: rs(12, 10), checks: [HTTP] }] }));
    await fake.updateDestination(SVC, rs(12, 10));
    alive.set(RS1.address, false);
    await vi.advanceTimersByTimeAsync(0);
    await settle();
    expect((await weights(fake))['192.168.150.12']).toBe(0);
    alive.set(RS1.address, true);
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    const seen: number[] = [(await weights(fake))['192.168.150.12']!];
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(1000);
      await settle();
      seen.push((await weights(fake))['192.168.150.12']!);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10]);
    // the steps are a slow start's: journaled under its actor, none as the old health.ramp
    const entries = journal.list({ limit: 50 });
    expect(entries.filter((e) => e.op === 'destinations.slowStart').map((e) => e.actor)).toEqual(Array(9).fill('slow start'));
    expect(entries.some((e) => e.op === 'health.ramp')).toBe(false);
  });

  it('maintenance holds weight 0 through a passing check, and is kept when the config is replaced', async () => {
    await open();
    await health.setConfig(cfg());
    await settle();
    const entry = await health.setMaintenance(SVC, RS2, true, { role: 'operator', tokenName: 'alice', remote: 'test' });
    expect(entry).toMatchObject({ from: 'up', to: 'maintenance', message: 'maintenance on by alice' });
    expect((await weights(fake))['192.168.150.13']).toBe(0);
    // fail and recover while in maintenance: nothing moves
    alive.set(RS2.address, false);
    await vi.advanceTimersByTimeAsync(7000);
    await settle();
    alive.set(RS2.address, true);
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    expect((await weights(fake))['192.168.150.13']).toBe(0);
    expect(health.history({ limit: 1 })[0]).toMatchObject({ to: 'up', action: 'in maintenance: a passing check does not end it' });
    await health.setConfig(cfg()); // a form save does not clear it
    expect(health.list().find((r) => r.destination.address === RS2.address)!.state).toBe('maintenance');
    await health.setMaintenance(SVC, RS2, false, { role: 'operator', tokenName: 'alice', remote: 'test' });
    expect((await weights(fake))['192.168.150.13']).toBe(5);
  });

  it('refuses a config naming a server that is not a real server of the service', async () => {
    await open();
    const bad = cfg({ realServers: [{ destination: rs(99), checks: [HTTP] }] });
    await expect(health.setConfig(bad)).rejects.toThrow(/192\.168\.150\.99:80 is not a real server of TCP 192\.168\.150\.100:80/);
    expect(health.getConfig()).toEqual([]);
  });

  it('checkNow runs the check without touching the table, and only against real servers', async () => {
    await open();
    await health.setConfig(cfg({ timing: { delayLoop: 3600, warmup: 3600 } }));
    alive.set(RS1.address, false);
    const r = await health.checkNow(SVC, RS1);
    expect(r).toMatchObject({ ok: false, results: [{ ok: false, message: 'HTTP 503', check: 'HTTP GET /' }] });
    expect(await weights(fake)).toEqual({ '192.168.150.12': 3, '192.168.150.13': 5 });
    expect(journal.size).toBe(0);
    await expect(health.checkNow(SVC, { family: 'inet', address: '127.0.0.1', port: 80 })).rejects.toThrow(/refusing to check 127\.0\.0\.1:80: it is not a real server/);
    await expect(health.checkNow(SVC, RS1, { type: 'tcp', connectPort: 22, timing: {} })).resolves.toMatchObject({ ok: false });
  });

  it('config and maintenance survive a restart; the new scheduler resumes checks', async () => {
    vi.useRealTimers();
    const dir = await mkdtemp(path.join(tmpdir(), 'health-'));
    try {
      await open(dir);
      await health.setConfig(cfg({ timing: { delayLoop: 0.2, warmup: 0, retry: 0 } }));
      await health.setMaintenance(SVC, RS1, true, { role: 'operator', tokenName: 'alice', remote: 'test' });
      health.stop();
      await fake.updateDestination(SVC, rs(12, 3)); // someone put the weight back behind our back
      calls.length = 0;
      await open(dir);
      expect(health.getConfig()[0]!.realServers.map((r) => r.maintenance)).toEqual([true, false]);
      expect((await weights(fake))['192.168.150.12']).toBe(0); // maintenance re-asserted at start
      await new Promise((r) => setTimeout(r, 500));
      expect(calls.filter((a) => a === RS2.address).length).toBeGreaterThanOrEqual(2);
      expect(health.history({ limit: 100 }).some((e) => e.to === 'maintenance')).toBe(true);
    } finally {
      health.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('streams transitions, replaying those after lastEventId', async () => {
    await open();
    await health.setConfig(cfg({ timing: { delayLoop: 6, retry: 0, warmup: 0 } }));
    await settle();
    const first = health.history({ limit: 10 }).at(-1)!;
    const ac = new AbortController();
    const it = health.transitions(ac.signal, first.id);
    const replayed = await it.next();
    expect(replayed.value!.id).toBe(first.id + 1);
    alive.set(RS1.address, false);
    await vi.advanceTimersByTimeAsync(6000);
    const live = await it.next();
    expect(live.value).toMatchObject({ to: 'down', destination: { address: RS1.address } });
    ac.abort();
    expect((await it.next()).done).toBe(true);
  });
});
