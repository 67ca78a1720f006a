import { afterEach, describe, expect, it, vi } from 'vitest';
import { callerFor, makeDeps, OPERATOR, VIEWER } from '../api/testing';
import { stepWeight } from './slow-start';

const SVC = { kind: 'addr' as const, family: 'inet' as const, protocol: 'tcp' as const, address: '10.0.0.1', port: 80 };
const RS = { family: 'inet' as const, address: '10.0.1.1', port: 80 };
const dest = (weight: number) => ({ ...RS, forward: 'dr' as const, weight, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip' as const, port: 0, checksum: 'nocsum' as const } });
const FLAGS = { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false };

afterEach(() => { vi.useRealTimers(); });

async function setup() {
  const deps = await makeDeps();
  await deps.fake.addService({ key: SVC, scheduler: 'wrr', flags: FLAGS, timeout: 0, netmask: '255.255.255.255', pe: null });
  return { deps, op: callerFor(deps, OPERATOR), viewer: callerFor(deps, VIEWER) };
}
const weightNow = async (deps: Awaited<ReturnType<typeof setup>>['deps']) => (await deps.fake.listDestinations(SVC))[0]?.weight;

describe('slow start', () => {
  it('steps evenly from 1 to the target', () => {
    expect([1, 2, 3, 4, 5].map((i) => stepWeight(9, i, 5))).toEqual([1, 3, 5, 7, 9]);
    expect([1, 2].map((i) => stepWeight(2, i, 2))).toEqual([1, 2]);
  });

  it('adds at weight 1 and climbs to the weight in journaled steps under the actor "slow start"', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { deps, op, viewer } = await setup();
    const r = await op.destinations.create({ service: SVC, destination: dest(5), slowStartSec: 8 });
    expect(r.destination.weight).toBe(1);
    expect(r.slowStart).toMatchObject({ target: 5, weight: 1, step: 1, steps: 5 });
    const seen: number[] = [(await weightNow(deps))!];
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(2000);
      seen.push((await weightNow(deps))!);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(await viewer.destinations.slowStarts()).toEqual([]);
    const steps = (await viewer.journal.list({ limit: 10 })).filter((e) => e.op === 'destinations.slowStart');
    expect(steps).toHaveLength(4);
    expect(steps.every((e) => e.actor === 'slow start')).toBe(true);
  });

  it('an operator stops it where it stands; a weight set by someone else stops it too', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { deps, op, viewer } = await setup();
    await op.destinations.create({ service: SVC, destination: dest(10), slowStartSec: 18 });
    await vi.advanceTimersByTimeAsync(2000);
    expect(await viewer.destinations.slowStarts()).toMatchObject([{ target: 10, weight: 2, step: 2, steps: 10 }]);
    await op.destinations.stopSlowStart({ service: SVC, destination: RS });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await weightNow(deps)).toBe(2);
    await expect(op.destinations.stopSlowStart({ service: SVC, destination: RS })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });

    await op.destinations.slowStart({ service: SVC, destination: RS, weight: 4, seconds: 6 });
    expect(await weightNow(deps)).toBe(1);
    await op.destinations.update({ service: SVC, destination: RS, patch: { weight: 7 } });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await weightNow(deps)).toBe(7);
    expect(await viewer.destinations.slowStarts()).toEqual([]);
  });

  it('refuses a bad duration with the field named, and the viewer may not start one; the table is unchanged', async () => {
    const { deps, op, viewer } = await setup();
    await expect(op.destinations.create({ service: SVC, destination: dest(5), slowStartSec: 1 })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('at least 2 s') });
    await expect(viewer.destinations.slowStart({ service: SVC, destination: RS, weight: 4, seconds: 6 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await deps.fake.listDestinations(SVC)).toEqual([]);
  });
});
