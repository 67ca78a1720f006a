/**
 * A change whose rollback fails says exactly what remains, journals it, and
 * undo can then revert it: the stateful fake kernel, made to fail at the
 * right step.
 */
import { describe, expect, it } from 'vitest';
import { IpvsError } from '@/lib/ipvs/errors';
import type { DestinationSpec, ServiceKey } from '@/lib/ipvs/model';
import { callerFor, makeDeps, OPERATOR } from '../api/testing';

const KEY: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 };
const dest = (address: string): DestinationSpec => ({
  family: 'inet', address, port: 80, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' },
});

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  return p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as { code: string; message: string });
}

describe('a failed rollback leaves recorded, undoable state', () => {
  it('services.create: real servers fail, removing the service fails: the message says the service remains; journal and undo', async () => {
    const deps = await makeDeps();
    const op = callerFor(deps, OPERATOR);
    const { fake } = deps;
    const addDestination = fake.addDestination.bind(fake);
    const removeService = fake.removeService.bind(fake);
    fake.addDestination = async (s, d) => {
      if (d.address === '10.0.1.2') throw new IpvsError('invalid', 'the kernel refused real server 10.0.1.2:80', 'EINVAL');
      return addDestination(s, d);
    };
    fake.removeService = async () => { throw new IpvsError('internal', 'netlink socket closed', 'EBADF'); };

    const e = await failure(op.services.create({ service: { key: KEY, scheduler: 'rr' }, destinations: [dest('10.0.1.1'), dest('10.0.1.2')] }));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toBe('service TCP 10.0.0.1:80 was created but its real servers failed (the kernel refused real server 10.0.1.2:80) '
      + 'and removing it again failed: netlink socket closed; the service remains (journal #1: undo removes it)');
    // what remains: the service with the one real server that went in
    expect((await fake.dump()).map((s) => s.destinations.map((d) => d.address))).toEqual([['10.0.1.1']]);
    const [entry] = await op.journal.list();
    expect(entry).toMatchObject({ id: 1, op: 'services.create', state: 'failed', error: expect.stringContaining('the service remains') });
    expect(entry!.objects).toMatchObject([{ kind: 'service', key: KEY, before: null, after: { destinations: [{ address: '10.0.1.1' }] } }]);

    fake.removeService = removeService;
    await op.journal.undo();
    expect(await fake.dump()).toEqual([]);
  });

  it('services.create whose rollback works journals a failure that changed nothing, and undo has nothing to do', async () => {
    const deps = await makeDeps();
    const op = callerFor(deps, OPERATOR);
    deps.fake.addDestination = async () => { throw new IpvsError('invalid', 'refused', 'EINVAL'); };
    const e = await failure(op.services.create({ service: { key: KEY, scheduler: 'rr' }, destinations: [dest('10.0.1.1')] }));
    expect(e.message).toBe('refused');
    expect(await deps.fake.dump()).toEqual([]);
    expect((await op.journal.list())[0]).toMatchObject({ state: 'failed', objects: [] });
    expect((await failure(op.journal.undo())).code).toBe('NOT_FOUND');
  });

  it('a restore whose rollback fails reports and journals the changes that remain; undo reverts them', async () => {
    const deps = await makeDeps();
    const op = callerFor(deps, OPERATOR);
    const { fake } = deps;
    const addDestination = fake.addDestination.bind(fake);
    const removeService = fake.removeService.bind(fake);
    fake.addDestination = async (s, d) => {
      if (d.address === '10.0.2.1') throw new IpvsError('invalid', 'the kernel refused real server 10.0.2.1:80', 'EINVAL');
      return addDestination(s, d);
    };
    fake.removeService = async () => { throw new IpvsError('internal', 'netlink socket closed', 'EBADF'); };
    const text = '-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 10.0.1.1:80 -g\n-A -t 192.0.2.11:80 -s rr\n-a -t 192.0.2.11:80 -r 10.0.2.1:80 -g\n';

    const e = await failure(op.snapshot.restore({ format: 'ipvsadm', text }));
    expect(e.message).toMatch(/ROLLBACK INCOMPLETE/);
    expect(e.message).toMatch(/; these changes remain and are journal entry #1 \(undo reverts them\): added service TCP 192\.0\.2\.1[01]:80, added service TCP 192\.0\.2\.1[01]:80$/);
    expect((await fake.dump()).length).toBe(2);
    const [entry] = await op.journal.list();
    expect(entry).toMatchObject({ op: 'snapshot.restore', state: 'failed' });
    expect(entry!.objects.map((o) => (o.kind === 'service' ? [o.before, o.after !== null] : null))).toEqual([[null, true], [null, true]]);

    fake.removeService = removeService;
    await op.journal.undo();
    expect(await fake.dump()).toEqual([]);
  });
});
