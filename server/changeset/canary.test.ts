/**
 * The canary's other two signals on the stateful fake (SYN_RECV is the
 * kernel test's): a health check that turns DOWN on the new real server rolls
 * the change set back; a canary that sees nothing wrong passes and leaves it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthService } from '../health/service';
import type { DestinationSpec, ServiceKey } from '@/lib/ipvs/model';
import { destinationId, serviceId } from '@/lib/ipvs/ids';
import { callerFor, makeDeps, OPERATOR } from '../api/testing';
import { CANARY_TICK_MS } from './canary';

const KEY: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 };
const dest = (address: string): DestinationSpec => ({
  family: 'inet', address, port: 80, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' },
});
const tick = CANARY_TICK_MS.value;
afterEach(() => { CANARY_TICK_MS.value = tick; });

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const t0 = Date.now();
  let v = await f();
  while (!ok(v) && Date.now() - t0 < ms) {
    await new Promise((r) => setTimeout(r, 20));
    v = await f();
  }
  return v;
}

describe('canary', () => {
  it('rolls back by itself when the new real server\'s health check turns DOWN, journaled with the reason', async () => {
    CANARY_TICK_MS.value = 20;
    let down = false;
    const health = {
      list: () => (down ? [{ service: KEY, serviceId: serviceId(KEY), destination: dest('10.0.1.9'), destinationId: destinationId(dest('10.0.1.9')), state: 'down', message: 'connect ECONNREFUSED' }] : []),
    } as unknown as HealthService;
    const deps = { ...(await makeDeps()), health };
    const op = callerFor(deps, OPERATOR);
    await op.services.create({ service: { key: KEY, scheduler: 'rr' }, destinations: [dest('10.0.1.1')] });
    await op.changesets.stage({ edit: { op: 'destination.create', service: KEY, destination: dest('10.0.1.9') } });
    const r = await op.changesets.commit({ rev: (await op.changesets.get()).rev, canary: { seconds: 30 } });
    expect((await deps.fake.dump())[0]!.destinations).toHaveLength(2);
    down = true;
    const s = await until(() => op.changesets.canary(), (c) => c?.state !== 'watching');
    expect(s).toMatchObject({ state: 'rolled-back', reason: 'health check of new real server 10.0.1.9:80 is DOWN (connect ECONNREFUSED)' });
    expect((await deps.fake.dump())[0]!.destinations.map((d) => d.address)).toEqual(['10.0.1.1']);
    expect((await op.journal.list())[0]).toMatchObject({
      id: s!.rollbackJournalId, op: 'changeset.canary-rollback', undoes: r.journalId, actor: 'canary',
      note: 'canary: health check of new real server 10.0.1.9:80 is DOWN (connect ECONNREFUSED)',
    });
  });

  it('passes and leaves the change when nothing goes wrong; an operator can stop it', async () => {
    CANARY_TICK_MS.value = 20;
    const deps = await makeDeps();
    const op = callerFor(deps, OPERATOR);
    await op.services.create({ service: { key: KEY, scheduler: 'rr' }, destinations: [dest('10.0.1.1')] });
    await op.changesets.stage({ edit: { op: 'destination.create', service: KEY, destination: dest('10.0.1.9') } });
    await op.changesets.commit({ rev: (await op.changesets.get()).rev, canary: { seconds: 5 } });
    expect((await op.changesets.stopCanary())).toMatchObject({ state: 'stopped', reason: 'stopped by operator' });
    expect((await deps.fake.dump())[0]!.destinations).toHaveLength(2);
    // again, watched to the end: it passes
    await op.changesets.stage({ edit: { op: 'destination.create', service: KEY, destination: dest('10.0.1.8') } });
    await op.changesets.commit({ rev: (await op.changesets.get()).rev, canary: { seconds: 5 } });
    const s = await until(() => op.changesets.canary(), (c) => c?.state !== 'watching', 8000);
    expect(s).toMatchObject({ state: 'passed', reason: null, targets: ['10.0.1.8:80'] });
    expect((await deps.fake.dump())[0]!.destinations).toHaveLength(3);
  }, 15_000);

  it('refuses a canary time out of bounds with the field named', async () => {
    const deps = await makeDeps();
    const op = callerFor(deps, OPERATOR);
    await expect(op.changesets.commit({ rev: 0, canary: { seconds: 3600 } })).rejects.toThrow(/canary.*seconds|watch at most 900 s/);
  });
});
