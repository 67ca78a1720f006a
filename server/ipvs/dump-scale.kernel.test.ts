/**
 * dump() on a large table: checks that the pipelined per-service GET_DEST
 * dumps return exactly what one socket returns, prints the timings, and pins
 * the kernel fact the design rests on (one dump at a time per socket).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetlink, Protocol } from 'netlink';
import { packGenlMessage, packGetFamily, unpackFamily, unpackGenlMessage } from '@/lib/ipvs/codec';
import * as C from '@/lib/ipvs/constants';
import { NetlinkIpvs } from './netlink-client';
import { ipvsadm, ipvsadmRestore } from './kernel-test-helpers';

const SERVICES = Number(process.env.DIRECTOR_DUMP_SERVICES ?? 1000);
const DESTS = 4;

function table(): string {
  const lines: string[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const vip = `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    lines.push(`-A -t ${vip}:80 -s rr`);
    for (let d = 0; d < DESTS; d++) lines.push(`-a -t ${vip}:80 -r 172.31.${d}.${(i % 250) + 1}:80 -g -w 1`);
  }
  return `${lines.join('\n')}\n`;
}

describe(`dump() of ${SERVICES} services x ${DESTS} real servers`, () => {
  beforeAll(() => { ipvsadm('-C'); ipvsadmRestore(table()); }, 600_000);
  afterAll(() => { ipvsadm('-C'); });

  it('returns the same table at every concurrency; timings printed', async () => {
    const results: Record<number, number> = {};
    let reference: string | undefined;
    for (const concurrency of [1, 4, 16, 64]) {
      const ipvs = await NetlinkIpvs.connect({ dumpConcurrency: concurrency });
      try {
        const t0 = performance.now();
        const entries = await ipvs.dump();
        results[concurrency] = Math.round(performance.now() - t0);
        expect(entries).toHaveLength(SERVICES);
        expect(entries.every((e) => e.destinations.length === DESTS)).toBe(true);
        const text = JSON.stringify(entries.map((e) => [e.key, e.destinations.map((d) => d.address)]));
        reference ??= text;
        expect(text).toBe(reference);
        // handed over one by one as read: the same entries in the same order, none returned
        const handed: typeof entries = [];
        expect(await ipvs.dump((e) => handed.push(e))).toEqual([]);
        expect(JSON.stringify(handed.map((e) => [e.key, e.destinations.map((d) => d.address)]))).toBe(reference);
      } finally {
        ipvs.close();
      }
    }
    console.log(`dump() ms by GET_DEST concurrency (${SERVICES} services x ${DESTS}): ${JSON.stringify(results)}`);
  }, 600_000);

  it('the kernel refuses a second concurrent dump on the same socket with EBUSY', async () => {
    const sock = createNetlink(Protocol.GENERIC);
    try {
      const [fam] = await sock.request(C.GENL_ID_CTRL, [Buffer.from(packGetFamily('IPVS'))], { checkError: false });
      const id = unpackFamily(unpackGenlMessage(fam![0]!.data).attrs).id;
      const dumpReq = () => sock.request(id, [Buffer.from(packGenlMessage(C.IPVS_CMD_GET_SERVICE))], { flags: C.NLM_F_DUMP, checkError: false, timeout: 30_000 });
      const [first, second] = await Promise.allSettled([dumpReq(), dumpReq()]);
      // and the library's multipart reassembly, interrupted by that error, gives up on the first dump
      if (first.status === 'rejected') expect(String(first.reason)).toMatch(/Multipart message not terminated/);
      // the second answer is an NLMSG_ERROR carrying -EBUSY (16)
      const msgs = second.status === 'fulfilled' ? second.value[0] : [];
      expect(msgs[0]?.type).toBe(C.NLMSG_ERROR);
      expect(msgs[0]!.data.readInt32LE(0)).toBe(-16);
    } finally {
      sock.close();
    }
  });
});
