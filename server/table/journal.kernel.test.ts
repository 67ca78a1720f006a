/**
 * Write-ahead journal on the lab kernel's real IPVS table: while the journal
 * cannot be written (an injected disk that fails with ENOSPC), writes are
 * refused and `ipvsadm -Sn` shows the table unchanged; once the disk works
 * again, the same write goes through and is journaled.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { dst, ipvsadm, savedLines, svc, tcp } from '../ipvs/kernel-test-helpers';
import { openIpvs } from '../ipvs/open';
import { createContextInner } from '../api/context';
import { TableHub } from '../live/hub';
import { Journal, type JournalDisk } from './journal';
import { Mutex } from './mutex';
import { appRouter } from '../api/router';
import { createCallerFactory } from '../api/trpc';

const log = pino({ level: 'warn' }, pino.destination(2));
let backend: IpvsBackend;
let hub: TableHub;
let failing = true;
const files = new Map<string, string>();
const disk: JournalDisk = {
  append: async (f, t) => {
    if (failing) throw new Error('ENOSPC: no space left on device');
    files.set(f, (files.get(f) ?? '') + t);
  },
  read: async (f) => files.get(f) ?? null,
  size: async (f) => Buffer.byteLength(files.get(f) ?? ''),
  rename: async () => {},
};

beforeAll(async () => {
  backend = await openIpvs();
  await backend.flush();
  hub = new TableHub({ backend, log, tickMs: 500 });
});

afterAll(async () => {
  hub?.close();
  await backend?.flush().catch(() => undefined);
  backend?.close();
});

describe('journal write-ahead on the real kernel', () => {
  it('refuses writes while the journal cannot be written, leaving the kernel table as it was; works once it can', async () => {
    ipvsadm('-A', '-t', '10.20.0.1:80', '-s', 'rr');
    const before = savedLines();
    const journal = await Journal.open('/state', { disk });
    const op = createCallerFactory(appRouter)(createContextInner({
      backend, hub, journal, writeLock: new Mutex(), log, conns: null, version: 'kernel-test', startedAt: Date.now(),
    }, { role: 'operator', tokenName: 'operator' }, 'test'));
    const create = () => op.services.create({ service: svc(tcp('10.20.0.2', 80)), destinations: [dst('10.20.1.1', 80)] });

    await expect(create()).rejects.toThrow('cannot write the journal: ENOSPC: no space left on device; nothing was changed');
    await expect(op.services.remove({ key: tcp('10.20.0.1', 80) })).rejects.toThrow(/^cannot write the journal/);
    await expect(op.snapshot.restore({ format: 'ipvsadm', text: '-A -t 10.20.0.3:80 -s wlc\n', prune: true })).rejects.toThrow(/^cannot write the journal/);
    expect(savedLines()).toEqual(before);

    failing = false;
    const r = await create();
    const after = savedLines();
    expect(after.filter((l) => !before.includes(l))).toEqual([
      expect.stringMatching(/^-A -t 10\.20\.0\.2:80 -s wlc/), expect.stringMatching(/^-a -t 10\.20\.0\.2:80 -r 10\.20\.1\.1:80 /),
    ]);
    expect((await op.journal.list())[0]).toMatchObject({ id: r.journalId, op: 'services.create', state: 'done' });
  });
});
