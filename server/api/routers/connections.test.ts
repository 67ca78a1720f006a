/** connections.* over the real /proc parser, fed a file in the kernel's exact format. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnSummaryTick } from '@/lib/agent/events';
import { procConnSource } from '../../live/conn-source';
import { callerFor, makeDeps, VIEWER } from '../testing';

// 192.0.2.10:80 (C000020A:0050) -> real servers 10.0.0.1 (0A000001) and 10.0.0.2 (0A000002)
const TABLE = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP C6336401 C350 C000020A 0050 0A000001 0050 ESTABLISHED     897
TCP C6336402 C351 C000020A 0050 0A000001 0050 SYN_RECV         59
TCP C6336403 C352 C000020A 0050 0A000002 0050 TIME_WAIT       110
UDP 0A090001 A1B2 C000020A 0035 0A000002 0035 UDP             287
`;

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'director-conn-'));
  file = path.join(dir, 'ip_vs_conn');
  await writeFile(file, TABLE);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function setup() {
  const deps = await makeDeps({ tickMs: 20 });
  deps.conns = procConnSource({ path: file });
  return { deps, viewer: callerFor(deps, VIEWER) };
}

describe('connections', () => {
  it('lists with server-side filters and paging', async () => {
    const { viewer } = await setup();
    const all = await viewer.connections.list({});
    expect(all.total).toBe(4);
    const est = await viewer.connections.list({ state: 'ESTABLISHED' });
    expect(est.total).toBe(1);
    expect(est.entries[0]).toMatchObject({ state: 'ESTABLISHED' });
    const rs2 = await viewer.connections.list({ destination: { family: 'inet', address: '10.0.0.2', port: 80 } });
    expect(rs2.total).toBe(1);
    const clients = await viewer.connections.list({ client: '198.51.100.0/24', limit: 1, cursor: 1 });
    expect(clients.total).toBe(3);
    expect(clients.entries).toHaveLength(1);
    const udp = await viewer.connections.list({ protocol: 'udp' });
    expect(udp.total).toBe(1);
  });

  it('refuses a malformed client filter with a field error', async () => {
    const { viewer } = await setup();
    const e = await viewer.connections.list({ client: '10.0.0.0/99' }).then(() => null, (x: unknown) => x as { code: string; cause?: { issues?: { path: string[] }[] } });
    expect(e?.code).toBe('BAD_REQUEST');
    expect(e?.cause?.issues?.map((i) => i.path.join('.'))).toContain('client');
  });

  it('summarises per state and streams summary ticks', async () => {
    const { viewer, deps } = await setup();
    const s = await viewer.connections.summary();
    expect(s.byState).toMatchObject({ ESTABLISHED: 1, SYN_RECV: 1, TIME_WAIT: 1 });
    expect(s.destinations.length).toBeGreaterThanOrEqual(2);
    const ac = new AbortController();
    const ticks: ConnSummaryTick[] = [];
    for await (const ev of await callerFor(deps, VIEWER, ac.signal).connections.onSummary()) {
      ticks.push((ev as unknown as [string, ConnSummaryTick])[1]);
      if (ticks.length === 2) break;
    }
    ac.abort();
    expect(ticks.map((t) => t.seq)).toEqual([1, 2]);
    expect(ticks[1]!.summary.connections).toBe(4);
  });
});
