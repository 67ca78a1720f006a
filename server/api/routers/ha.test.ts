import { describe, expect, it } from 'vitest';
import { haStatusSchema, type HaStatus } from '@/lib/schemas/ha';
import { callerFor, makeDeps, OPERATOR, VIEWER } from '../testing';
import { disabledStatus, HaPreconditionError, type HaService } from '../../ha/service';

/** A stand-in controller with real state: status changes when the operator acts. */
function fakeHa(): HaService & { bump(): void } {
  let status: HaStatus = { ...disabledStatus('lvs1'), enabled: true, groups: [] };
  let waiters: (() => void)[] = [];
  const bump = () => {
    status = { ...status, transitions: [{ at: Date.now(), group: '*', kind: 'operator', from: null, to: 'x', reason: 'bump' }, ...status.transitions] };
    const w = waiters;
    waiters = [];
    w.forEach((f) => f());
  };
  return {
    enabled: true,
    status: () => status,
    changed: (signal) => new Promise((r) => { waiters.push(r); signal?.addEventListener('abort', () => r(), { once: true }); }),
    handover: async (group) => {
      if (group !== 'lan') throw new HaPreconditionError(`no VIP group '${group}'`);
      bump();
      return status;
    },
    maintenance: async (on, by) => {
      status = { ...status, transitions: [{ at: 0, group: '*', kind: 'operator', from: null, to: on ? 'maintenance' : 'in service', reason: by }] };
      return status;
    },
    confirmReplicated: async (seq, by) => {
      if (seq !== 7) throw new HaPreconditionError(`the held change is sequence 7, not ${seq}`);
      status = { ...status, transitions: [{ at: 0, group: '*', kind: 'table', from: 'held', to: 'applied', reason: by }] };
      return status;
    },
    bump,
  };
}

describe('ha router without --ha-config', () => {
  it('status says disabled and matches the contract; actions are refused with a reason', async () => {
    const deps = { ...(await makeDeps()), directorId: 'lvs9' };
    const st = await callerFor(deps, VIEWER).ha.status();
    expect(haStatusSchema.parse(st)).toMatchObject({ director: 'lvs9', enabled: false, zookeeper: { state: 'disabled' } });
    await expect(callerFor(deps, OPERATOR).ha.handover({ group: 'lan' })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('--ha-config') });
    await expect(callerFor(deps, OPERATOR).ha.maintenance({ on: true })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
  });
  it('info carries the director id', async () => {
    const deps = { ...(await makeDeps()), directorId: 'lvs9' };
    expect((await callerFor(deps, VIEWER).info()).agent.directorId).toBe('lvs9');
  });
});

describe('ha router with a controller', () => {
  it('viewer reads, operator acts; viewer and anonymous cannot act', async () => {
    const ha = fakeHa();
    const deps = { ...(await makeDeps()), directorId: 'lvs1', ha };
    expect((await callerFor(deps, VIEWER).ha.status()).enabled).toBe(true);
    await expect(callerFor(deps, VIEWER).ha.handover({ group: 'lan' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(callerFor(deps, null).ha.status()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const after = await callerFor(deps, OPERATOR).ha.maintenance({ on: true });
    expect(after.transitions[0]).toMatchObject({ to: 'maintenance', reason: 'operator' });
    await expect(callerFor(deps, OPERATOR).ha.handover({ group: 'nope' })).rejects.toMatchObject({ code: 'CONFLICT', message: "no VIP group 'nope'" });
    await expect(callerFor(deps, OPERATOR).ha.handover({ group: '' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('confirming a held replicated change: operator only, names the sequence, a mismatch is a conflict', async () => {
    const ha = fakeHa();
    const deps = { ...(await makeDeps()), directorId: 'lvs1', ha };
    await expect(callerFor(deps, VIEWER).ha.confirmReplicated({ seq: 7 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(callerFor(deps, OPERATOR).ha.confirmReplicated({ seq: 8 })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('sequence 7') });
    await expect(callerFor(deps, OPERATOR).ha.confirmReplicated({ seq: -1 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect((await callerFor(deps, OPERATOR).ha.confirmReplicated({ seq: 7 })).transitions[0]).toMatchObject({ kind: 'table', to: 'applied', reason: 'operator' });
    const off = { ...(await makeDeps()), directorId: 'lvs9' };
    await expect(callerFor(off, OPERATOR).ha.confirmReplicated({ seq: 7 })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
  });

  it('registry: operator only (its entries carry enrollment codes); without HA or a registry, a precondition', async () => {
    const listing = { entries: [], skipped: [{ node: 'junk', reason: 'no data' }] };
    const deps = { ...(await makeDeps()), directorId: 'lvs1', ha: { ...fakeHa(), registry: async () => listing } };
    expect(await callerFor(deps, OPERATOR).ha.registry()).toEqual(listing);
    await expect(callerFor(deps, VIEWER).ha.registry()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(callerFor(deps, null).ha.registry()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const off = { ...(await makeDeps()), directorId: 'lvs9' };
    await expect(callerFor(off, OPERATOR).ha.registry()).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('lvs9') });
  });

  it('onStatus sends the status at once and again on a change, tracked with increasing ids', async () => {
    const ha = fakeHa();
    const deps = { ...(await makeDeps()), directorId: 'lvs1', ha };
    const ctl = new AbortController();
    const it_ = (await callerFor(deps, VIEWER, ctl.signal).ha.onStatus())[Symbol.asyncIterator]();
    const first = await it_.next();
    expect((first.value as unknown as [string, HaStatus])[0]).toBe('1');
    expect((first.value as unknown as [string, HaStatus])[1]).toMatchObject({ enabled: true, transitions: [] });
    const t0 = Date.now();
    setTimeout(() => ha.bump(), 300);
    const second = await it_.next();
    const waited = Date.now() - t0;
    expect((second.value as unknown as [string, HaStatus])[0]).toBe('2');
    expect((second.value as unknown as [string, HaStatus])[1]).toMatchObject({ transitions: [{ reason: 'bump' }] });
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(2000);
    ctl.abort();
    await it_.return?.(undefined);
  });
});
