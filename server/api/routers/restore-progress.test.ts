/** snapshot.onRestoreProgress: operations done / total of a restore, followed over the router on the fake kernel. */
import { describe, expect, it } from 'vitest';
import { FakeIpvs } from '../../ipvs/fake';
import type { RestoreProgress } from '../../table/snapshot-ops';
import { callerFor, makeDeps, OPERATOR, VIEWER } from '../testing';

const rules = (n: number, scheduler = 'rr') => Array.from({ length: n }, (_, i) => [
  `-A -t 192.0.2.${i + 1}:80 -s ${i === n - 1 ? scheduler : 'rr'}`,
  `-a -t 192.0.2.${i + 1}:80 -r 10.0.0.1:80 -m -w 1`,
]).flat().join('\n') + '\n';

async function collect(it: AsyncIterable<unknown>): Promise<RestoreProgress[]> {
  const out: RestoreProgress[] = [];
  // tracked() events arrive as [id, data, symbol] tuples on a server-side caller
  for await (const e of it) out.push((Array.isArray(e) ? e[1] : e) as RestoreProgress);
  return out;
}

describe('snapshot.onRestoreProgress', () => {
  it('follows a restore from a subscription opened before it: counts rise to the total, then done', async () => {
    const deps = await makeDeps();
    const op = callerFor(deps, OPERATOR);
    const events = collect(await op.snapshot.onRestoreProgress({ progressId: 'bench-0001' }));
    const r = await op.snapshot.restore({ format: 'ipvsadm', text: rules(40), progressId: 'bench-0001' });
    const seen = await events;
    expect(r.applied).toBe(80);
    expect(seen.at(-1)).toEqual({ done: 80, total: 80, state: 'done' });
    const applying = seen.filter((p) => p.state === 'applying');
    expect(applying.length).toBeGreaterThan(0);
    for (let i = 1; i < applying.length; i++) expect(applying[i]!.done).toBeGreaterThanOrEqual(applying[i - 1]!.done);
    expect(applying.every((p) => p.total === 80)).toBe(true);
  });

  it('a subscriber that comes after the end gets the final state at once', async () => {
    const deps = await makeDeps();
    const op = callerFor(deps, OPERATOR);
    await op.snapshot.restore({ format: 'ipvsadm', text: rules(2), progressId: 'late-00001' });
    expect(await collect(await op.snapshot.onRestoreProgress({ progressId: 'late-00001' }))).toEqual([{ done: 4, total: 4, state: 'done' }]);
  });

  it('ends in failed when the kernel refuses a step, and the table is as before', async () => {
    const deps = await makeDeps({ fake: new FakeIpvs({ schedulers: ['rr'] }) });
    const op = callerFor(deps, OPERATOR);
    const events = collect(await op.snapshot.onRestoreProgress({ progressId: 'fail-00001' }));
    await expect(op.snapshot.restore({ format: 'ipvsadm', text: rules(5, 'wlc'), progressId: 'fail-00001' })).rejects.toThrow();
    const seen = await events;
    expect(seen.at(-1)!.state).toBe('failed');
    expect(seen.at(-1)!.total).toBe(10);
    expect(await deps.fake.listServices()).toEqual([]);
  });

  it('refuses viewers and malformed ids', async () => {
    const deps = await makeDeps();
    await expect(callerFor(deps, VIEWER).snapshot.onRestoreProgress({ progressId: 'view-00001' })).rejects.toThrow();
    await expect(callerFor(deps, OPERATOR).snapshot.restore({ format: 'ipvsadm', text: rules(1), progressId: 'x' })).rejects.toThrow(/progressId/);
  });
});
