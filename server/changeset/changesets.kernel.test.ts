/**
 * Change sets on the lab kernel's real IPVS table:
 *   - two staged edits apply as one journal entry; one undo brings `ipvsadm -Sn` back byte for byte;
 *   - a kernel refusal in the middle (a real EEXIST: the real server appears in the new service just
 *     before the change set adds it) rolls back what went in, and `ipvsadm -Sn` is byte-identical;
 *   - a canary rolls a change set back by itself when the real server it added answers nothing
 *     (SYNs pile up in SYN_RECV): real traffic from a client namespace, the conn-states test's lab.
 *
 *   kb6 (bridge, director 192.168.166.1/24, VIP 192.168.166.100/32)
 *     ├─ kc6  client 192.168.166.200
 *     ├─ kr61 real server 192.168.166.12, VIP on lo, HTTP on :80
 *     └─ kr62 real server 192.168.166.13, NO VIP on lo: drops what DR sends it
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { dst, ipvsadm, svc, tcp } from '../ipvs/kernel-test-helpers';
import { openIpvs } from '../ipvs/open';
import { BridgeLab, HTTP_OK_SERVER } from '../ipvs/bridge-lab';
import { createContextInner } from '../api/context';
import { TableHub } from '../live/hub';
import { procConnSource } from '../live/conn-source';
import { Journal } from '../table/journal';
import { Mutex } from '../table/mutex';
import { appRouter } from '../api/router';
import { createCallerFactory } from '../api/trpc';

const run = promisify(execFile);
const log = pino({ level: 'warn' }, pino.destination(2));
const VIP = '192.168.166.100';
const RS1 = '192.168.166.12';
const RS2 = '192.168.166.13';

const LAN = new BridgeLab({ bridge: 'kb6', net: '192.168.166', vip: VIP, hosts: { kc6: '192.168.166.200', kr61: RS1, kr62: RS2 } });

let backend: IpvsBackend;
let hub: TableHub;

function callerWith(b: IpvsBackend, journal: Journal) {
  return createCallerFactory(appRouter)(createContextInner({
    backend: b, hub, journal, writeLock: new Mutex(), log, conns: procConnSource(), version: 'kernel-test', startedAt: Date.now(),
  }, { role: 'operator', tokenName: 'operator', actor: 'alice' }, 'test'));
}

beforeAll(async () => {
  LAN.up(LAN.drRealServer('kr61'));
  backend = await openIpvs();
  await backend.flush();
  hub = new TableHub({ backend, log, tickMs: 500 });
  await LAN.spawnNode('kr61', HTTP_OK_SERVER);
});

afterAll(async () => {
  hub?.close();
  await backend?.flush().catch(() => undefined);
  backend?.close();
  LAN.down();
});

const A = tcp('10.30.0.1', 80);
const B = tcp('10.30.0.2', 80);
const ref = (address: string) => ({ family: 'inet' as const, address, port: 80 });

describe('change sets on the real kernel', () => {
  it('two edits apply as one journal entry, and one undo gives back ipvsadm -Sn byte for byte', async () => {
    await backend.flush();
    ipvsadm('-A', '-t', '10.30.0.1:80', '-s', 'rr');
    ipvsadm('-a', '-t', '10.30.0.1:80', '-r', '10.30.1.1:80', '-g', '-w', '1');
    ipvsadm('-a', '-t', '10.30.0.1:80', '-r', '10.30.1.2:80', '-g', '-w', '1');
    const before = ipvsadm('-Sn');
    const op = callerWith(backend, await Journal.open(null));
    await op.changesets.stage({ edit: { op: 'destination.update', service: A, destination: ref('10.30.1.1'), patch: { weight: 5 } } });
    await op.changesets.stage({ edit: { op: 'service.update', key: A, patch: { scheduler: 'wrr' } } });
    expect(ipvsadm('-Sn')).toBe(before);
    const { rev, diff } = await op.changesets.get();
    expect(diff).toContain('~ -A -t 10.30.0.1:80 -s wrr');
    const r = await op.changesets.commit({ rev });
    expect(r.applied).toBe(2);
    const after = ipvsadm('-Sn');
    expect(after).toContain('-A -t 10.30.0.1:80 -s wrr');
    expect(after).toContain('-a -t 10.30.0.1:80 -r 10.30.1.1:80 -g -w 5');
    const entries = await op.journal.list();
    expect(entries.map((e) => [e.op, e.state, e.actor])).toEqual([['changeset.apply', 'done', 'alice']]);
    await op.journal.undoEntry({ id: r.journalId });
    expect(ipvsadm('-Sn')).toBe(before);
  });

  it('a kernel refusal in the middle leaves ipvsadm -Sn byte-identical, journals the failure, keeps the draft', async () => {
    await backend.flush();
    ipvsadm('-A', '-t', '10.30.0.1:80', '-s', 'rr');
    ipvsadm('-a', '-t', '10.30.0.1:80', '-r', '10.30.1.1:80', '-g', '-w', '1');
    ipvsadm('-a', '-t', '10.30.0.1:80', '-r', '10.30.1.2:80', '-g', '-w', '1');
    const before = ipvsadm('-Sn');
    // the real server appears in the new service (as if another tool added it) just before the change set adds it: the kernel says EEXIST
    const racing = new Proxy(backend, {
      get(target, prop, recv) {
        if (prop === 'addDestination') {
          return async (...args: Parameters<IpvsBackend['addDestination']>) => {
            if (args[1].address === '10.30.1.2' && args[0].kind === 'addr' && args[0].address === '10.30.0.2') {
              ipvsadm('-a', '-t', '10.30.0.2:80', '-r', '10.30.1.2:80', '-g', '-w', '1');
            }
            return target.addDestination(...args);
          };
        }
        const v = Reflect.get(target, prop, recv) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const op = callerWith(racing, await Journal.open(null));
    await op.changesets.stage({ edit: { op: 'destination.update', service: A, destination: ref('10.30.1.1'), patch: { weight: 9 } } });
    await op.changesets.stage({ edit: { op: 'service.update', key: A, patch: { scheduler: 'wlc' } } });
    await op.changesets.stage({ edit: { op: 'service.create', service: svc(B, { scheduler: 'rr' }), destinations: [dst('10.30.1.1', 80), dst('10.30.1.2', 80)] } });
    const { rev, steps, verdict } = await op.changesets.get();
    expect(steps).toHaveLength(5);
    // 10.30.1.x is on none of the director's LANs: flagged, applied on purpose
    expect(verdict.findings.map((f) => f.rule)).toEqual(['dr-subnet', 'dr-subnet']);
    await expect(op.changesets.commit({ rev, acknowledge: true })).rejects.toThrow(
      /^change set not applied: the kernel refused '-a -t 10\.30\.0\.2:80 -r 10\.30\.1\.2:80 -g -w 1': .*; the 4 operation\(s\) already applied were undone, the table is unchanged$/);
    expect(ipvsadm('-Sn')).toBe(before);
    const [entry] = await op.journal.list();
    expect(entry).toMatchObject({ op: 'changeset.apply', state: 'failed', objects: [] });
    expect((await op.changesets.get()).edits).toHaveLength(3);
  });

  it('a canary rolls the change set back by itself when the new real server answers nothing', async () => {
    await backend.flush();
    const S = tcp(VIP, 80);
    await backend.addService(svc(S, { scheduler: 'rr' }));
    await backend.addDestination(S, dst(RS1, 80, { forward: 'dr' }));
    const before = ipvsadm('-Sn');
    const op = callerWith(backend, await Journal.open(null));
    await op.changesets.stage({ edit: { op: 'destination.create', service: S, destination: dst(RS2, 80, { forward: 'dr' }) } });
    const { rev } = await op.changesets.get();
    const r = await op.changesets.commit({ rev, canary: { seconds: 120, synRecv: 3 } });
    expect(r.canary).toMatchObject({ state: 'watching', targets: [`${RS2}:80`] });
    expect(ipvsadm('-Sn')).toContain(`-a -t ${VIP}:80 -r ${RS2}:80 -g -w 1`);

    // clients: rr sends every other one to the broken real server, whose SYNs go unanswered
    const traffic = run('ip', ['netns', 'exec', 'kc6', 'bash', '-c',
      `for i in $(seq 12); do curl -s --connect-timeout 3 -o /dev/null http://${VIP}/ & done; wait`], { timeout: 60_000 });
    let status = await op.changesets.canary();
    const t0 = Date.now();
    while (status?.state === 'watching' && Date.now() - t0 < 60_000) {
      await new Promise((res) => setTimeout(res, 250));
      status = await op.changesets.canary();
    }
    await traffic.catch(() => undefined);
    expect(status, JSON.stringify(status)).toMatchObject({ state: 'rolled-back', journalId: r.journalId });
    expect(status!.reason).toMatch(new RegExp(`connections to new real server ${RS2.replace(/\./g, '\\.')}:80 are stuck in SYN_RECV and none is established`));
    expect(ipvsadm('-Sn')).toBe(before);
    const [undo] = await op.journal.list();
    expect(undo).toMatchObject({
      id: status!.rollbackJournalId, op: 'changeset.canary-rollback', undoes: r.journalId, actor: 'canary', state: 'done',
      note: expect.stringMatching(/^canary: \d+ connections to new real server/),
    });
  });
});
