import { TRPCError } from '@trpc/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DoctorEvidence } from '@/lib/doctor/evidence';
import { healthyEvidence, RS2, RS2_MAC, VIP } from '@/lib/doctor/testing';
import type { CollectOptions } from '../../doctor/collect';
import { MAX_FINDINGS, PROBE_INTERVAL_MS, RUN_REUSE_MS, setDoctorDepsForTests } from './doctor';
import { callerFor, makeDeps, OPERATOR, VIEWER } from '../testing';

/** A collector that reads nothing and sends nothing: the lab's evidence, and rs2 answering ARP when probed. */
let collected: CollectOptions[];
let clock: number;
let make: () => DoctorEvidence;

function collect(o: CollectOptions): Promise<DoctorEvidence> {
  collected.push(o);
  const e = make();
  e.arp = o.arp ? [{ vip: VIP, interface: 'br0', source: '192.168.150.1', answers: [{ ip: VIP, mac: RS2_MAC }], error: null }] : null;
  return Promise.resolve(e);
}

async function failure(p: Promise<unknown>): Promise<TRPCError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(TRPCError);
  return e as TRPCError;
}

let viewer: ReturnType<typeof callerFor>;
let op: ReturnType<typeof callerFor>;
beforeEach(async () => {
  collected = [];
  clock = 1_000_000;
  make = healthyEvidence;
  setDoctorDepsForTests({ collect, now: () => clock });
  const deps = await makeDeps();
  viewer = callerFor(deps, VIEWER);
  op = callerFor(deps, OPERATOR);
});
afterEach(() => setDoctorDepsForTests(null));

describe('doctor.* procedures', () => {
  it('run: a viewer reads the findings, and no packet is sent', async () => {
    const r = await viewer.doctor.run();
    expect(r.findings).toEqual([]);
    expect(r.looked).toMatchObject({ services: 3, realServers: 6, connections: 4, arpProbes: null });
    expect(collected.map((c) => c.arp)).toEqual([false]);
  });

  it('run: many pages share one look every few seconds, and a probe makes the next run fresh', async () => {
    await Promise.all([viewer.doctor.run(), viewer.doctor.run(), op.doctor.run()]);
    clock += RUN_REUSE_MS - 1;
    await viewer.doctor.run();
    expect(collected).toHaveLength(1);
    clock += 1;
    await viewer.doctor.run();
    expect(collected).toHaveLength(2);
    await op.doctor.probeArp();
    expect((await viewer.doctor.run()).findings.map((f) => f.check)).toEqual(['arp-answer']);
    expect(collected.map((c) => c.arp)).toEqual([false, false, true, false]);
  });

  it('probeArp needs an operator token: a viewer is refused and nothing is probed', async () => {
    expect((await failure(viewer.doctor.probeArp())).code).toBe('FORBIDDEN');
    expect(collected).toEqual([]);
  });

  it('probeArp names the real server, runs once per interval, and later runs keep its answers', async () => {
    const r = await op.doctor.probeArp();
    expect(r.findings.map((f) => f.title)).toEqual([`real server ${RS2} (${RS2_MAC}) answers ARP for the VIP ${VIP}`]);
    expect(r.arpAt).toBe(clock);
    clock += PROBE_INTERVAL_MS - 1;
    const again = await failure(op.doctor.probeArp());
    expect(again.code).toBe('TOO_MANY_REQUESTS');
    expect(again.message).toMatch(/try again in 1 s/);
    expect(collected.filter((c) => c.arp)).toHaveLength(1);
    // a viewer's run still shows what the probe found
    expect((await viewer.doctor.run()).findings.map((f) => f.check)).toEqual(['arp-answer']);
    clock += 1;
    await op.doctor.probeArp();
    expect(collected.filter((c) => c.arp)).toHaveLength(2);
  });

  it('concurrent probes share one: no burst of packets', async () => {
    const all = await Promise.all([op.doctor.probeArp(), op.doctor.probeArp(), op.doctor.probeArp()]);
    expect(all.every((r) => r.findings.length === 1)).toBe(true);
    expect(collected.filter((c) => c.arp)).toHaveLength(1);
  });

  it(`answers at most ${MAX_FINDINGS} findings and says how many more`, async () => {
    make = () => {
      const e = healthyEvidence();
      e.conns!.destinations = Array.from({ length: MAX_FINDINGS + 50 }, (_, i) => ({
        service: `TCP ${VIP}:80`, address: '192.168.150.12', port: 1000 + i, connections: 5, byState: { SYN_RECV: 5 },
      }));
      return e;
    };
    const r = await viewer.doctor.run();
    expect(r.findings).toHaveLength(MAX_FINDINGS);
    expect(r.more).toBe(50);
  });
});
