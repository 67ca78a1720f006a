/** Health actions journal write-ahead: while the journal cannot be written they leave the kernel alone. */
import { describe, expect, it } from 'vitest';
import { healthTableSchema } from '@/lib/schemas/health';
import { Journal, type JournalDisk } from '../table/journal';
import { Mutex } from '../table/mutex';
import { silentLog } from '../api/testing';
import { FakeIpvs } from '../ipvs/fake';
import { HealthActions } from './actions';

const KEY = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
const DEST = { family: 'inet', address: '10.0.1.1', port: 80, forward: 'dr', weight: 5, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' } } as const;

describe('health actions and the journal', () => {
  it('a failing journal refuses the action before the kernel is touched; once it works, the action is journaled', async () => {
    let failing = true;
    const files = new Map<string, string>();
    const disk: JournalDisk = {
      append: async (f, t) => { if (failing) throw new Error('ENOSPC: no space left on device'); files.set(f, (files.get(f) ?? '') + t); },
      read: async (f) => files.get(f) ?? null,
      size: async (f) => (files.get(f) ?? '').length,
      rename: async () => {},
    };
    const fake = new FakeIpvs();
    await fake.addService({ key: KEY, scheduler: 'rr', flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0, netmask: '255.255.255.255', pe: null });
    await fake.addDestination(KEY, DEST);
    const journal = await Journal.open('/state', { disk });
    const actions = new HealthActions({ backend: fake, writeLock: new Mutex(), journal, log: silentLog });
    const [cfg] = healthTableSchema.parse([{ service: KEY, onFailure: 'quiesce', realServers: [{ destination: DEST, checks: [{ type: 'tcp' }] }] }]);
    const rs = cfg!.realServers[0]!;

    await expect(actions.down(cfg!, rs)).rejects.toThrow('cannot write the journal: ENOSPC: no space left on device; nothing was changed');
    expect((await fake.listDestinations(KEY))[0]!.weight).toBe(5);

    failing = false;
    expect(await actions.down(cfg!, rs)).toEqual({ changed: true, note: 'weight 5 -> 0' });
    expect((await fake.listDestinations(KEY))[0]!.weight).toBe(0);
    expect(journal.list({ limit: 1 })[0]).toMatchObject({ op: 'health.down', state: 'done', objects: [{ before: { weight: 5 }, after: { weight: 0 } }] });
  });
});
