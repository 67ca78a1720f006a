/**
 * Change sets through the API on the stateful fake kernel: staging checks
 * each edit against the table, the draft is bounded, apply is one journal
 * entry that one undo reverts, a kernel refusal midway leaves the table as it
 * was, a flagged draft needs an acknowledgement. (The real kernel:
 * changesets.kernel.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { IpvsError } from '@/lib/ipvs/errors';
import { MAX_EDITS } from '@/lib/changeset/edits';
import type { DestinationSpec, ServiceKey } from '@/lib/ipvs/model';
import { callerFor, makeDeps, OPERATOR, VIEWER } from '../api/testing';

const KEY: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 };
const dest = (address: string, weight = 1): DestinationSpec => ({
  family: 'inet', address, port: 80, forward: 'nat', weight, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' },
});
const ref = (address: string) => ({ family: 'inet' as const, address, port: 80 });

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  return p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as { code: string; message: string });
}

async function setup() {
  const deps = await makeDeps();
  const op = callerFor(deps, OPERATOR);
  await op.services.create({ service: { key: KEY, scheduler: 'wlc' }, destinations: [dest('10.0.1.1'), dest('10.0.1.2')] });
  return { deps, op, fake: deps.fake };
}

/** Another director: 10.0.0.1 (setup's) and 10.0.0.7. */
async function setupOther() {
  const r = await setup();
  await r.op.services.create({ service: { key: { ...KEY, address: '10.0.0.7', port: 80 }, scheduler: 'wlc' }, destinations: [dest('10.0.1.9')] });
  return r;
}

describe('changesets', () => {
  it('stages two edits without touching the kernel, shows the diff, applies them as one journal entry, and one undo reverts both', async () => {
    const { op, fake } = await setup();
    const before = JSON.stringify(await fake.dump());
    await op.changesets.stage({ edit: { op: 'destination.update', service: KEY, destination: ref('10.0.1.1'), patch: { weight: 5 } } });
    await op.changesets.stage({ edit: { op: 'destination.create', service: KEY, destination: dest('10.0.1.3', 2) } });
    expect(JSON.stringify(await fake.dump())).toBe(before);
    const d = await op.changesets.get();
    expect(d.edits.map((e) => e.text)).toEqual([
      'edit real server 10.0.1.1:80 of TCP 10.0.0.1:80: weight 5',
      'add real server 10.0.1.3:80 to TCP 10.0.0.1:80 (nat, weight 2)',
    ]);
    expect(d.diff).toContain('~ -a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 5');
    expect(d.diff).toContain('+ -a -t 10.0.0.1:80 -r 10.0.1.3:80 -m -w 2');
    expect(d.problem).toBeNull();
    const journalBefore = (await op.journal.list()).length;

    const r = await op.changesets.commit({ rev: d.rev });
    expect(r.applied).toBe(2);
    const entries = await op.journal.list();
    expect(entries.length).toBe(journalBefore + 1);
    expect(entries[0]).toMatchObject({ id: r.journalId, op: 'changeset.apply', state: 'done', note: expect.stringContaining('2 edit(s)') });
    expect((await fake.dump())[0]!.destinations.map((x) => [x.address, x.weight]).sort()).toEqual([['10.0.1.1', 5], ['10.0.1.2', 1], ['10.0.1.3', 2]]);
    expect((await op.changesets.get()).edits).toEqual([]);

    await op.journal.undoEntry({ id: r.journalId });
    expect((await fake.dump())[0]!.destinations.map((x) => [x.address, x.weight]).sort()).toEqual([['10.0.1.1', 1], ['10.0.1.2', 1]]);
  });

  it('a kernel refusal midway rolls back what was applied, journals a failure that left nothing, and keeps the draft', async () => {
    const { op, fake } = await setup();
    const before = JSON.stringify(await fake.dump());
    await op.changesets.stage({ edit: { op: 'destination.update', service: KEY, destination: ref('10.0.1.1'), patch: { weight: 7 } } });
    await op.changesets.stage({ edit: { op: 'destination.create', service: KEY, destination: dest('10.0.1.9') } });
    const add = fake.addDestination.bind(fake);
    fake.addDestination = async (s, x) => {
      if (x.address === '10.0.1.9') throw new IpvsError('invalid', 'the kernel refused 10.0.1.9', 'EINVAL');
      return add(s, x);
    };
    const { rev } = await op.changesets.get();
    const e = await failure(op.changesets.commit({ rev }));
    expect(e.message).toMatch(/^change set not applied: the kernel refused '-a -t 10\.0\.0\.1:80 -r 10\.0\.1\.9:80 -m -w 1': the kernel refused 10\.0\.1\.9; the 1 operation\(s\) already applied were undone, the table is unchanged$/);
    expect(JSON.stringify(await fake.dump())).toBe(before);
    expect((await op.journal.list())[0]).toMatchObject({ op: 'changeset.apply', state: 'failed', objects: [] });
    expect((await op.changesets.get()).edits).toHaveLength(2);
  });

  it('a flagged draft applies only with acknowledge', async () => {
    const { op, fake } = await setup();
    await op.changesets.stage({ edit: { op: 'destination.remove', service: KEY, destination: ref('10.0.1.1') } });
    await op.changesets.stage({ edit: { op: 'destination.update', service: KEY, destination: ref('10.0.1.2'), patch: { weight: 0 } } });
    const d = await op.changesets.get();
    expect(d.verdict.flagged).toBe(true);
    expect(d.verdict.findings.map((f) => f.rule)).toContain('last-healthy');
    const e = await failure(op.changesets.commit({ rev: d.rev }));
    expect(e.code).toBe('PRECONDITION_FAILED');
    expect(e.message).toContain('would be left with no healthy real server');
    expect((await fake.dump())[0]!.destinations).toHaveLength(2);
    await op.changesets.commit({ rev: d.rev, acknowledge: true });
    expect((await fake.dump())[0]!.destinations.map((x) => [x.address, x.weight])).toEqual([['10.0.1.2', 0]]);
  });

  it('an apply of a draft changed since it was seen is refused', async () => {
    const { op } = await setup();
    await op.changesets.stage({ edit: { op: 'service.update', key: KEY, patch: { scheduler: 'rr' } } });
    const { rev } = await op.changesets.get();
    await op.changesets.stage({ edit: { op: 'destination.update', service: KEY, destination: ref('10.0.1.1'), patch: { weight: 3 } } });
    const e = await failure(op.changesets.commit({ rev }));
    expect(e.code).toBe('CONFLICT');
    expect(e.message).toContain('the draft changed since you saw it');
  });

  it('bad input gets a specific error and leaves the draft as it was', async () => {
    const { op } = await setup();
    let e = await failure(op.changesets.stage({ edit: { op: 'destination.update', service: KEY, destination: ref('10.0.1.1'), patch: { weight: -2 } } }));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toMatch(/edit\.patch\.weight/);
    e = await failure(op.changesets.stage({ edit: { op: 'destination.remove', service: KEY, destination: ref('10.0.9.9') } }));
    expect(e.message).toBe('edits.0.destination: real server 10.0.9.9:80 is not in TCP 10.0.0.1:80');
    expect((await op.changesets.get())).toMatchObject({ rev: 0, edits: [] });
  });

  it('the draft is bounded', async () => {
    const { op } = await setup();
    for (let i = 0; i < MAX_EDITS; i++) {
      await op.changesets.stage({ edit: { op: 'destination.update', service: KEY, destination: ref('10.0.1.1'), patch: { weight: i } } });
    }
    const e = await failure(op.changesets.stage({ edit: { op: 'destination.update', service: KEY, destination: ref('10.0.1.1'), patch: { weight: 1 } } }));
    expect(e.message).toBe(`edit: the draft holds at most ${MAX_EDITS} edits: apply or discard it first`);
    expect((await op.changesets.get()).edits).toHaveLength(MAX_EDITS);
  });

  it('one director\'s services.vips, passed as the fleet\'s VIPs, flag a new service on one of them; apply then needs acknowledge', async () => {
    const fleet = [{ director: 'dir-b', vips: (await callerFor((await setupOther()).deps, VIEWER).services.vips()).vips }];
    expect(fleet[0]!.vips).toEqual(['10.0.0.1', '10.0.0.7']);
    const { op, fake } = await setup();
    await op.changesets.stage({ edit: { op: 'service.create', service: { key: { ...KEY, address: '10.0.0.7', port: 443 }, scheduler: 'wlc' }, destinations: [dest('10.0.1.1')] } });
    const d = await op.changesets.get({ others: fleet });
    expect(d.verdict.flagged).toBe(true);
    expect(d.verdict.findings).toContainEqual(expect.objectContaining({ rule: 'vip-elsewhere', title: 'VIP 10.0.0.7 is already served by director dir-b' }));
    // without the fleet it is not flagged
    expect((await op.changesets.get({ others: null })).verdict.findings.some((f) => f.rule === 'vip-elsewhere')).toBe(false);
    const before = JSON.stringify(await fake.dump());
    expect((await failure(op.changesets.commit({ rev: d.rev, others: fleet }))).message).toMatch(/verdict flags/);
    expect(JSON.stringify(await fake.dump())).toBe(before);
  });

  it('a viewer sees the draft but cannot stage or apply', async () => {
    const { deps, op } = await setup();
    await op.changesets.stage({ edit: { op: 'service.update', key: KEY, patch: { scheduler: 'rr' } } });
    const viewer = callerFor(deps, VIEWER);
    expect((await viewer.changesets.get()).edits).toHaveLength(1);
    expect((await failure(viewer.changesets.stage({ edit: { op: 'service.remove', key: KEY } }))).code).toBe('FORBIDDEN');
    expect((await failure(viewer.changesets.commit({ rev: 1 }))).code).toBe('FORBIDDEN');
  });
});
