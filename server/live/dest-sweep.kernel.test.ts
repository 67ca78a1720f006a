/** The budgeted sweep against the lab kernel's real table, changed behind its back with ipvsadm. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceId } from '@/lib/ipvs/ids';
import { diffTables } from '@/lib/agent/table-diff';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { ipvsadm, ipvsadmRestore, tcp } from '../ipvs/kernel-test-helpers';
import { openIpvs } from '../ipvs/open';
import { DestSweep, procStructure } from './dest-sweep';

const N = 100;
const vip = (i: number) => `10.77.${i >> 8}.${i & 255}`;
let backend: IpvsBackend;

beforeAll(async () => {
  backend = await openIpvs();
  await backend.flush();
  const lines: string[] = [];
  for (let i = 0; i < N; i++) {
    lines.push(`-A -t ${vip(i)}:80 -s rr`);
    for (let d = 1; d <= 2; d++) lines.push(`-a -t ${vip(i)}:80 -r 172.30.${d}.${i + 1}:80 -g -w 1`);
  }
  ipvsadmRestore(`${lines.join('\n')}\n`);
});

afterAll(async () => {
  await backend?.flush().catch(() => undefined);
  backend?.close();
});

describe('DestSweep in the kernel', () => {
  it('100 services, budget 32, idle counters: every service re-read within 50 reads (rotation of 2); ipvsadm changes reported on the next read', async () => {
    const sweep = new DestSweep({ backend, structure: procStructure(), budget: 32 });
    expect((await sweep.read()).entries).toHaveLength(N);
    const seen = new Set<string>();
    let prev = (await sweep.read()).entries;
    // counters stand still, so a dump stays current: only the rotation (a sixteenth of the budget) re-reads
    for (let t = 0; t < Math.ceil(N / 2); t++) {
      const r = await sweep.read();
      expect(r.dumped.length).toBeLessThanOrEqual(2);
      expect(diffTables(prev, r.entries)).toEqual([]); // nothing changed: nothing reported
      for (const id of r.dumped) seen.add(id);
      prev = r.entries;
    }
    expect(seen.size).toBe(N);

    ipvsadm('-e', '-t', `${vip(57)}:80`, '-r', '172.30.1.58:80', '-g', '-w', '4');
    ipvsadm('-a', '-t', `${vip(90)}:80`, '-r', '172.30.9.91:80', '-m', '-w', '2', '-x', '50');
    const r = await sweep.read();
    expect(r.dumped.slice(0, 2).sort()).toEqual([serviceId(tcp(vip(57), 80)), serviceId(tcp(vip(90), 80))].sort());
    const changes = diffTables(prev, r.entries);
    expect(changes.map((c) => c.type).sort()).toEqual(['destination_added', 'destination_changed']);
    const added = changes.find((c) => c.type === 'destination_added');
    // the threshold /proc cannot show comes from the GET_DEST dump
    expect(added?.type === 'destination_added' && added.destination).toMatchObject({ address: '172.30.9.91', forward: 'nat', weight: 2, upperThreshold: 50 });
  });
});
