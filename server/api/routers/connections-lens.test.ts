/** connections.lens over the real /proc parser, fed a file in the kernel's exact format. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LENS_BINS } from '@/lib/conn/lens';
import { procConnSource } from '../../live/conn-source';
import { callerFor, makeDeps, VIEWER } from '../testing';

// VIP 192.0.2.10:80 (C000020A:0050), persistent: templates (client port 0, NONE) from 198.51.100.1-3 (C6336401-3)
// to real servers 10.0.0.1 (0A000001) and 10.0.0.2 (0A000002), one connection, one template of another service
const TABLE = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP C6336401 0000 C000020A 0050 0A000001 0050 NONE            250
TCP C6336402 0000 C000020A 0050 0A000001 0050 NONE              5
TCP C6336403 0000 C000020A 0050 0A000002 0050 NONE           3000
TCP C6336401 C350 C000020A 0050 0A000001 0050 ESTABLISHED     897
TCP C6336401 0000 C000020B 01BB 0A000002 01BB NONE             40
`;

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'director-lens-'));
  file = path.join(dir, 'ip_vs_conn');
  await writeFile(file, TABLE);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const VIP = { kind: 'addr' as const, family: 'inet' as const, protocol: 'tcp' as const, address: '192.0.2.10', port: 80 };

describe('connections.lens', () => {
  it("a client's templates: where each points and its time left, soonest first; connections are not templates", async () => {
    const deps = await makeDeps({ tickMs: 20 });
    deps.conns = procConnSource({ path: file });
    const viewer = callerFor(deps, VIEWER);
    const one = await viewer.connections.lens({ client: '198.51.100.1' });
    expect(one.total).toBe(2);
    expect(one.entries.map((e) => [e.vaddr, e.vport, e.destAddr, e.expires])).toEqual([['192.0.2.11', 443, '10.0.0.2', 40], ['192.0.2.10', 80, '10.0.0.1', 250]]);
    expect(one.entries.every((e) => e.template)).toBe(true);
  });

  it("per real server of a service: templates, an expiry histogram, when the last goes; a CIDR and a limit", async () => {
    const deps = await makeDeps({ tickMs: 20 });
    deps.conns = procConnSource({ path: file });
    const viewer = callerFor(deps, VIEWER);
    const svc = await viewer.connections.lens({ service: VIP, client: '198.51.100.0/24', limit: 1 });
    expect(svc.total).toBe(3);
    expect(svc.entries.map((e) => e.expires)).toEqual([5]);
    const bin = (s: number) => { const i = LENS_BINS.findIndex((b) => s <= b); return i < 0 ? LENS_BINS.length : i; };
    const counts = (...secs: number[]) => { const c = new Array(LENS_BINS.length + 1).fill(0); for (const s of secs) c[bin(s)]++; return c; };
    expect(svc.destinations).toEqual([
      { destination: '10.0.0.1:80', templates: 2, counts: counts(250, 5), lastExpires: 250 },
      { destination: '10.0.0.2:80', templates: 1, counts: counts(3000), lastExpires: 3000 },
    ]);
  });

  it('refuses a bad client with the field named, and reads nothing', async () => {
    const deps = await makeDeps({ tickMs: 20 });
    deps.conns = procConnSource({ path: path.join(dir, 'missing') });
    const viewer = callerFor(deps, VIEWER);
    await expect(viewer.connections.lens({ client: '198.51.100.0/33' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(viewer.connections.lens({ limit: 5000 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
