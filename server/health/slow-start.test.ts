/**
 * A real server brought back by health checks climbs through the agent's
 * slow starts (the operators' ramps): listed by destinations.slowStarts,
 * each step journaled under the actor "slow start", stopped by
 * stopSlowStart, and never writing over a health action that came between.
 * Stateful fake kernel, scripted checks, fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceKey } from '@/lib/ipvs/model';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { healthServiceSchema } from '@/lib/schemas/health';
import type { AgentDeps } from '../api/context';
import { callerFor, makeDeps, OPERATOR, silentLog, VIEWER } from '../api/testing';
import type { FakeIpvs } from '../ipvs/fake';
import { HEALTH_RAMP_BY } from './actions';
import { HealthService, type RunCheck } from './service';

const SVC: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 80 };
const RS: DestinationSpec = {
  family: 'inet', address: '192.168.150.12', port: 80, forward: 'dr', weight: 5, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL },
};
const KEY = { family: RS.family, address: RS.address, port: RS.port };
const HTTP = { type: 'http' as const, urls: [{ path: '/' }] };

let alive = true;
const scripted: RunCheck = async () => (alive ? { ok: true, message: 'HTTP 200', durationMs: 1 } : { ok: false, message: 'HTTP 503', durationMs: 1 });

let deps: AgentDeps & { fake: FakeIpvs };
let health: HealthService;

/** `backend` stands in for the kernel the health service and its ramps write to. */
async function open(backend: IpvsBackend = deps.fake) {
  health = await HealthService.open({
    backend, writeLock: deps.writeLock, journal: deps.journal, log: silentLog, stateDir: null, reloadMs: 0, runCheck: scripted,
    slowStarts: deps.slowStarts!,
  });
  deps.health = health;
  await health.start();
  // one check a second, down after one failure; 5 steps from 1 to 5 over 8 s (one every 2 s)
  await health.setConfig(healthServiceSchema.parse({
    service: SVC, rampUpSec: 8, timing: { delayLoop: 1, retry: 0, warmup: 0, connectTimeout: 1 }, realServers: [{ destination: RS, checks: [HTTP] }],
  }));
}

const weight = async () => (await deps.fake.listDestinations(SVC)).find((d) => d.address === RS.address)?.weight;

/** Advances fake time in small steps until `cond` holds (bounded). */
async function until(cond: () => Promise<boolean>, maxMs = 10_000): Promise<void> {
  for (let t = 0; t <= maxMs; t += 100) {
    if (await cond()) return;
    await vi.advanceTimersByTimeAsync(100);
  }
  throw new Error(`condition not met within ${maxMs} ms of fake time`);
}

/** The server fails (quiesced to 0), then passes again: the slow start begins at weight 1. */
async function bringBack(): Promise<void> {
  await until(async () => health.list()[0]?.state === 'up');
  alive = false;
  await until(async () => (await weight()) === 0);
  alive = true;
  await until(async () => (await weight()) === 1);
}

beforeEach(async () => {
  vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  alive = true;
  deps = await makeDeps();
  await deps.fake.addService({ key: SVC, scheduler: 'wrr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null });
  await deps.fake.addDestination(SVC, RS);
});

afterEach(() => {
  health?.stop();
  deps.slowStarts?.close();
  deps.hub.close();
  vi.useRealTimers();
});

describe('slow start after a health-check recovery', () => {
  it('climbs 1 → 5 through destinations.slowStarts, each step journaled under the actor "slow start"', async () => {
    await open();
    // the agent starting with the server at its weight: the first "up" does not pull it down to 1
    await until(async () => health.list()[0]?.state === 'up');
    expect(await weight()).toBe(5);
    expect(await callerFor(deps, VIEWER).destinations.slowStarts()).toEqual([]);

    await bringBack();
    expect(await callerFor(deps, VIEWER).destinations.slowStarts()).toMatchObject([
      { service: SVC, destination: KEY, target: 5, weight: 1, step: 1, steps: 5, by: HEALTH_RAMP_BY },
    ]);
    const seen = [await weight()];
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(2000);
      seen.push(await weight());
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(await callerFor(deps, VIEWER).destinations.slowStarts()).toEqual([]);
    const entries = await callerFor(deps, VIEWER).journal.list({ limit: 20 });
    const steps = entries.filter((e) => e.op === 'destinations.slowStart');
    expect(steps.map((e) => e.actor)).toEqual(['slow start', 'slow start', 'slow start', 'slow start']);
    expect(entries.some((e) => e.op === 'health.ramp')).toBe(false);
    // the write that brought it back (0 → 1) is the health check's own
    expect(entries.find((e) => e.op === 'health.up')).toMatchObject({ tokenName: 'health-check' });
  });

  it('an operator stops it with stopSlowStart: the weight stays where it stood', async () => {
    await open();
    await bringBack();
    await vi.advanceTimersByTimeAsync(2000);
    expect(await weight()).toBe(2);
    await callerFor(deps, OPERATOR).destinations.stopSlowStart({ service: SVC, destination: KEY });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await weight()).toBe(2);
    expect(await callerFor(deps, VIEWER).destinations.slowStarts()).toEqual([]);
  });

  it('failing again mid-ramp quiesces it, and no later step writes over the 0', async () => {
    await open();
    await bringBack();
    await vi.advanceTimersByTimeAsync(2000);
    expect(await weight()).toBe(2);
    alive = false;
    await until(async () => (await weight()) === 0);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await weight()).toBe(0);
    expect(await callerFor(deps, VIEWER).destinations.slowStarts()).toEqual([]);
  });

  it('a write landing between a step\'s read and its write wins: the step is refused under the lock, unjournaled', async () => {
    // the kernel as the ramp sees it: armed, a read returns what it found and then a
    // quiesce lands (as if a health action took the lock right after the read)
    let armed = false;
    const racing: IpvsBackend = new Proxy(deps.fake, {
      get(target, prop, receiver) {
        if (prop !== 'listDestinations') return Reflect.get(target, prop, receiver) as unknown;
        return async (svc: ServiceKey) => {
          const read = await target.listDestinations(svc);
          if (armed) {
            armed = false;
            await target.updateDestination(svc, { ...RS, weight: 0 });
          }
          return read;
        };
      },
    });
    await open(racing);
    await bringBack();
    const before = (await callerFor(deps, VIEWER).journal.list({ limit: 100 })).length;
    armed = true;
    await vi.advanceTimersByTimeAsync(2000);
    expect(armed).toBe(false);
    expect(await weight()).toBe(0);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await weight()).toBe(0);
    expect(await callerFor(deps, VIEWER).destinations.slowStarts()).toEqual([]);
    expect((await callerFor(deps, VIEWER).journal.list({ limit: 100 })).length).toBe(before);
  });
});
