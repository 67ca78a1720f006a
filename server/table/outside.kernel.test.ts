/**
 * Outside changes on the lab kernel's real table: a write through Director
 * raises nothing, an `ipvsadm` edit in the same kernel raises an alarm with
 * its diff within two ticks of the hub (which reads /proc/net/ip_vs and
 * netlink as the agent does), adopting journals it and clears it, reverting
 * puts back what Director wrote (as `ipvsadm -Sn` shows) and journals it.
 * A console is subscribed throughout (the hub ticks every tickMs, as it does
 * while a page is open).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { describeChange } from '@/lib/agent/outside';
import { dst, ipvsadm, savedLines, svc, tcp } from '../ipvs/kernel-test-helpers';
import { openIpvs } from '../ipvs/open';
import { createContextInner } from '../api/context';
import { kernelHub, type TableHub } from '../live/hub';
import { Journal } from './journal';
import { Mutex } from './mutex';
import { OutsideWatch } from './outside';
import { appRouter } from '../api/router';
import { createCallerFactory } from '../api/trpc';

const TICK = 400;
const log = pino({ level: 'warn' }, pino.destination(2));
let backend: IpvsBackend;
let hub: TableHub;
let journal: Journal;
let outside: OutsideWatch;
let stateDir: string;
const watching = new AbortController();
const makeCaller = createCallerFactory(appRouter);
let op: ReturnType<typeof makeCaller>;

const VIP = '10.30.0.1';
const key = tcp(VIP, 80);

/** Polls the watch (not the API, which would read the table itself) until `pred`; resolves with the ms it took. */
async function until(pred: () => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${JSON.stringify(outside.status().changes.map((c) => c.changes.map(describeChange)))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

const ticks = (n: number) => new Promise((r) => setTimeout(r, n * TICK));

beforeAll(async () => {
  backend = await openIpvs();
  await backend.flush();
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'outside-'));
  hub = kernelHub({ backend, log, tickMs: TICK });
  journal = await Journal.open(null);
  outside = await OutsideWatch.open({ journal, hub, log, stateDir, boot: 'kernel-test' });
  hub.start();
  // a console watching: the hub samples every tick
  void (async () => {
    for await (const _ of hub.changes(watching.signal)) void _;
  })();
  op = makeCaller(createContextInner({
    backend, hub, journal, writeLock: new Mutex(), log, conns: null, version: 'kernel-test', startedAt: Date.now(), outside,
  }, { role: 'operator', tokenName: 'operator', actor: 'alice' }, 'test'));
  await until(() => outside.status().ready, 10 * TICK);
});

afterAll(async () => {
  watching.abort();
  outside?.close();
  hub?.close();
  await backend?.flush().catch(() => undefined);
  backend?.close();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('outside changes in the kernel', () => {
  it('Director writes raise nothing, even when they land between two quick ticks', async () => {
    await op.services.create({ service: svc(key, { scheduler: 'rr' }), destinations: [dst('10.30.1.1', 80), dst('10.30.1.2', 80)] });
    for (let w = 2; w <= 12; w++) {
      await op.destinations.update({ service: key, destination: dst('10.30.1.1', 80), patch: { weight: w } });
    }
    await op.destinations.update({ service: key, destination: dst('10.30.1.2', 80), patch: { upperThreshold: 50 } });
    await ticks(3);
    expect((await op.outside.list()).changes).toEqual([]);
  });

  it('an ipvsadm edit raises an alarm with its diff within two ticks; adopting journals it and clears it', async () => {
    ipvsadm('-e', '-t', `${VIP}:80`, '-r', '10.30.1.1:80', '-g', '-w', '3');
    ipvsadm('-a', '-t', `${VIP}:80`, '-r', '10.30.1.3:80', '-g', '-w', '1');
    const took = await until(() => outside.status().changes.length > 0, 2 * TICK + 200);
    const [alarm, ...more] = outside.status().changes;
    expect(more).toEqual([]);
    expect(alarm!.serviceId).toBe(`tcp:${VIP}:80`);
    // both edits may be seen in one tick or the second a tick later: wait for the alarm to hold both
    await until(() => outside.status().changes[0]!.changes.length === 2, 2 * TICK);
    const seen = outside.status().changes[0]!;
    expect(seen.changes.map(describeChange).sort()).toEqual([
      'real server 10.30.1.1:80: weight 12 → 3',
      'real server 10.30.1.3:80 added (dr, weight 1)',
    ]);
    log.warn({ took }, 'outside change seen');

    const r = await op.outside.adopt({ id: seen.id });
    const entry = (await op.journal.list({ limit: 1 }))[0]!;
    expect(entry).toMatchObject({ id: r.journalId, op: 'outside.adopt', actor: 'outside (adopted by alice)', state: 'done' });
    expect(entry.objects[0]).toMatchObject({ kind: 'service', after: { destinations: expect.arrayContaining([expect.objectContaining({ address: '10.30.1.3', weight: 1 })]) } });
    await ticks(3);
    expect((await op.outside.list()).changes).toEqual([]);
  });

  it('a stale id is refused and changes nothing; reverting puts back what Director wrote and journals it', async () => {
    const before = savedLines();
    ipvsadm('-d', '-t', `${VIP}:80`, '-r', '10.30.1.2:80');
    ipvsadm('-E', '-t', `${VIP}:80`, '-s', 'wlc');
    await until(() => outside.status().changes[0]?.changes.length === 2, 4 * TICK);
    const seen = outside.status().changes[0]!;
    expect(seen.changes.map(describeChange).sort()).toEqual(['real server 10.30.1.2:80 removed', 'scheduler rr → wlc']);

    await expect(op.outside.revert({ id: seen.id + 1000 })).rejects.toThrow(/no outside change #\d+/);
    ipvsadm('-e', '-t', `${VIP}:80`, '-r', '10.30.1.3:80', '-g', '-w', '4');
    // edited again after it was seen: the alarm the operator looked at is no longer what the table holds
    await expect(op.outside.revert({ id: seen.id })).rejects.toThrow(/changed again since it was seen|no outside change/);
    await until(() => outside.status().changes[0]?.id !== seen.id && outside.status().changes[0]?.changes.length === 3, 4 * TICK);
    const latest = outside.status().changes[0]!;

    const r = await op.outside.revert({ id: latest.id });
    expect(savedLines()).toEqual(before);
    expect((await op.journal.list({ limit: 1 }))[0]).toMatchObject({ id: r.journalId, op: 'outside.revert', actor: 'alice', state: 'done' });
    await ticks(3);
    expect((await op.outside.list()).changes).toEqual([]);
  });

  it('what Director last wrote survives a restart: an edit made while the agent was down is an outside change', async () => {
    await outside.flushed();
    ipvsadm('-e', '-t', `${VIP}:80`, '-r', '10.30.1.1:80', '-g', '-w', '9');
    const h2 = kernelHub({ backend, log, tickMs: TICK });
    const again = await OutsideWatch.open({ journal: await Journal.open(null), hub: h2, log, stateDir, boot: 'kernel-test' });
    await h2.sampleNow(true);
    expect(again.status().changes.map((c) => c.changes.map(describeChange))).toEqual([['real server 10.30.1.1:80: weight 3 → 9']]);
    again.close();
    h2.close();
    // another boot of the kernel: the table as found is the starting point
    const h3 = kernelHub({ backend, log, tickMs: TICK });
    const reboot = await OutsideWatch.open({ journal: await Journal.open(null), hub: h3, log, stateDir, boot: 'another-boot' });
    await h3.sampleNow(true);
    expect(reboot.status()).toMatchObject({ ready: true, changes: [] });
    reboot.close();
    h3.close();
  });
});
