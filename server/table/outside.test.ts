/**
 * The outside-change watch over the stateful fake kernel: who may adopt or
 * revert, bounded input, and what an id no longer matching the table does.
 * The kernel test (outside.kernel.test.ts) shows the same against real IPVS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TRPCError } from '@trpc/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceKey } from '@/lib/ipvs/model';
import { callerFor, makeDeps, OPERATOR, silentLog, VIEWER } from '../api/testing';
import type { AgentDeps } from '../api/context';
import type { FakeIpvs } from '../ipvs/fake';
import { Journal } from './journal';
import { OutsideWatch } from './outside';
import { describeChange } from '@/lib/agent/outside';

const VIP: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 };
const rs = (last: number, weight = 1): DestinationSpec => ({
  family: 'inet', address: `10.0.0.${last}`, port: 80, forward: 'dr', weight, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL },
});

let deps: AgentDeps & { fake: FakeIpvs };
let watch: OutsideWatch;

async function code(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(TRPCError);
  return (e as TRPCError).code;
}

beforeEach(async () => {
  deps = await makeDeps();
  watch = await OutsideWatch.open({ journal: deps.journal, hub: deps.hub, log: silentLog, stateDir: null, boot: null });
  deps.outside = watch;
  await callerFor(deps, OPERATOR).services.create({
    service: { key: VIP, scheduler: 'rr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null }, destinations: [rs(1)],
  });
  await deps.hub.sampleNow(true);
  // another tool raises the weight behind Director's back
  await deps.fake.updateDestination(VIP, rs(1, 7));
  await deps.hub.sampleNow(true);
});

afterEach(() => {
  watch.close();
  deps.hub.close();
});

describe('outside changes over the fake kernel', () => {
  it('lists the change for a viewer; refuses adopt and revert to a viewer and changes nothing', async () => {
    const viewer = callerFor(deps, VIEWER);
    const { changes } = await viewer.outside.list();
    expect(changes).toHaveLength(1);
    const entries = deps.journal.list({ limit: 10 }).length;
    expect(await code(viewer.outside.adopt({ id: changes[0]!.id }))).toBe('FORBIDDEN');
    expect(await code(viewer.outside.revert({ id: changes[0]!.id }))).toBe('FORBIDDEN');
    expect(deps.journal.list({ limit: 10 })).toHaveLength(entries);
    expect((await deps.fake.listDestinations(VIP))[0]!.weight).toBe(7);
  });

  it('refuses ids that are not positive safe integers, naming the field', async () => {
    const op = callerFor(deps, OPERATOR);
    for (const id of [0, -1, 1.5, 2 ** 60, '1' as unknown as number]) {
      const e = await op.outside.revert({ id }).then(() => null, (err: unknown) => err as TRPCError);
      expect(e?.code).toBe('BAD_REQUEST');
      expect(JSON.stringify((e?.cause as { issues?: unknown })?.issues)).toContain('"id"');
    }
    expect((await deps.fake.listDestinations(VIP))[0]!.weight).toBe(7);
  });

  it('an id whose change was edited again is refused (CONFLICT) and the table left alone', async () => {
    const op = callerFor(deps, OPERATOR);
    const { changes } = await op.outside.list();
    await deps.fake.updateDestination(VIP, rs(1, 9));
    expect(await code(op.outside.revert({ id: changes[0]!.id }))).toBe('CONFLICT');
    expect((await deps.fake.listDestinations(VIP))[0]!.weight).toBe(9);
    // once seen again it has a new id, which reverts
    await deps.hub.sampleNow(true);
    const again = await op.outside.list();
    expect(again.changes[0]!.id).not.toBe(changes[0]!.id);
    await op.outside.revert({ id: again.changes[0]!.id });
    expect((await deps.fake.listDestinations(VIP))[0]!.weight).toBe(1);
    expect(await code(op.outside.adopt({ id: again.changes[0]!.id }))).toBe('NOT_FOUND');
  });
});

describe('what Director last wrote, across a restart', () => {
  it('a journaled write the agent did not save before it stopped is replayed, not raised; an edit made while it was down is', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'outside-restart-'));
    try {
      const first = await makeDeps({ fake: deps.fake, stateDir: dir });
      const w1 = await OutsideWatch.open({ journal: first.journal, hub: first.hub, log: silentLog, stateDir: dir, boot: 'b1' });
      first.outside = w1;
      await first.hub.sampleNow(true);
      await w1.flushed();
      // journaled and made, but the agent stops before the next sample takes it in
      await callerFor(first, OPERATOR).destinations.update({ service: VIP, destination: rs(1), patch: { weight: 3 } });
      w1.close();
      first.hub.close();

      const second = await makeDeps({ fake: deps.fake, stateDir: dir });
      const w2 = await OutsideWatch.open({ journal: second.journal, hub: second.hub, log: silentLog, stateDir: dir, boot: 'b1' });
      await second.hub.sampleNow(true);
      expect(w2.status()).toMatchObject({ ready: true, changes: [] });
      await deps.fake.updateDestination(VIP, rs(1, 8));
      await second.hub.sampleNow(true);
      expect(w2.status().changes.map((c) => c.changes.map(describeChange))).toEqual([['real server 10.0.0.1:80: weight 3 → 8']]);
      w2.close();
      second.hub.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
