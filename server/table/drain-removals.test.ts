import { describe, expect, it } from 'vitest';
import { callerFor, makeDeps, OPERATOR, VIEWER } from '../api/testing';

const SVC = { kind: 'addr' as const, family: 'inet' as const, protocol: 'tcp' as const, address: '10.0.0.1', port: 80 };
const rs = (n: number) => ({ family: 'inet' as const, address: `10.0.1.${n}`, port: 80 });
const dest = (n: number, weight = 3) => ({ ...rs(n), forward: 'dr' as const, weight, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip' as const, port: 0, checksum: 'nocsum' as const } });
const FLAGS = { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false };
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup() {
  const deps = await makeDeps({ tickMs: 20 });
  await deps.fake.addService({ key: SVC, scheduler: 'wrr', flags: FLAGS, timeout: 0, netmask: '255.255.255.255', pe: null });
  for (const n of [1, 2, 3]) await deps.fake.addDestination(SVC, dest(n));
  return { deps, op: callerFor(deps, OPERATOR), viewer: callerFor(deps, VIEWER) };
}
const addresses = async (deps: Awaited<ReturnType<typeof setup>>['deps']) => (await deps.fake.listDestinations(SVC)).map((d) => `${d.address}:${d.weight}`).sort();

describe('remove when drained', () => {
  it('an empty drained server is removed, journaled as the drain asked by the operator', async () => {
    const { deps, op, viewer } = await setup();
    const r = await op.destinations.drain({ service: SVC, destination: rs(1), removeWhenDrained: true });
    expect(r.removal).toMatchObject({ by: 'operator' });
    await wait(200);
    expect(await addresses(deps)).toEqual(['10.0.1.2:3', '10.0.1.3:3']);
    expect(await viewer.destinations.pendingRemovals()).toEqual([]);
    const [last] = await viewer.journal.list({ limit: 1 });
    expect(last).toMatchObject({ op: 'destinations.remove', actor: 'drain (asked by operator)' });
  });

  it('a weight set again, or cancel, keeps the server', async () => {
    const { deps, op, viewer } = await setup();
    await op.destinations.drain({ service: SVC, destination: rs(1), removeWhenDrained: true });
    await op.destinations.update({ service: SVC, destination: rs(1), patch: { weight: 5 } });
    await op.destinations.drain({ service: SVC, destination: rs(2), removeWhenDrained: false });
    await wait(200);
    expect(await addresses(deps)).toEqual(['10.0.1.1:5', '10.0.1.2:0', '10.0.1.3:3']);
    expect(await viewer.destinations.pendingRemovals()).toEqual([]);
    await expect(op.destinations.cancelRemoval({ service: SVC, destination: rs(2) })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
  });

  it('a Restore landing between the watch\'s look and its removal wins: the server stays, nothing journaled as removed', async () => {
    const { deps, viewer } = await setup();
    const fake = deps.fake;
    // the kernel as the watch sees it: armed, a read returns what it found and then the weight comes back
    // (as if an operator's Restore took the lock right after the look)
    let armed = false;
    deps.backend = new Proxy(fake, {
      get(target, prop, receiver) {
        if (prop !== 'listDestinations') return Reflect.get(target, prop, receiver) as unknown;
        return async (svc: typeof SVC) => {
          const read = await target.listDestinations(svc);
          if (armed) {
            armed = false;
            await target.updateDestination(svc, dest(1, 3));
          }
          return read;
        };
      },
    });
    await callerFor(deps, OPERATOR).destinations.drain({ service: SVC, destination: rs(1), removeWhenDrained: true });
    armed = true;
    for (let i = 0; i < 100 && (armed || (await viewer.destinations.pendingRemovals()).length > 0); i++) await wait(20);
    expect(armed).toBe(false);
    await wait(200);
    expect(await addresses(deps)).toEqual(['10.0.1.1:3', '10.0.1.2:3', '10.0.1.3:3']);
    expect(await viewer.destinations.pendingRemovals()).toEqual([]);
    expect((await viewer.journal.list({ limit: 10 })).some((e) => e.op === 'destinations.remove')).toBe(false);
  });

  it('drainMany drains a rack; one name that is not there drains nothing', async () => {
    const { deps, op } = await setup();
    await expect(op.destinations.drainMany({ items: [{ service: SVC, destination: rs(1) }, { service: SVC, destination: rs(9) }] }))
      .rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('items.1: 10.0.1.9:80') });
    expect(await addresses(deps)).toEqual(['10.0.1.1:3', '10.0.1.2:3', '10.0.1.3:3']);
    const r = await op.destinations.drainMany({ items: [{ service: SVC, destination: rs(1) }, { service: SVC, destination: rs(3) }] });
    expect(r.drained).toHaveLength(2);
    expect(await addresses(deps)).toEqual(['10.0.1.1:0', '10.0.1.2:3', '10.0.1.3:0']);
    await expect(op.destinations.drainMany({ items: [] })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    // the same server twice is a mistake in the list: refused by index, nothing drained
    await expect(op.destinations.drainMany({ items: [{ service: SVC, destination: rs(2) }, { service: SVC, destination: rs(2) }] }))
      .rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('names the same real server as items.0') });
    expect(await addresses(deps)).toEqual(['10.0.1.1:0', '10.0.1.2:3', '10.0.1.3:0']);
  });
});
