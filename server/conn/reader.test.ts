import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONN_HEADER } from '@/lib/conn/format';
import { ConnFilterError } from '@/lib/conn/summary';
import { readConnectionPage, summarizeConnections } from './reader';

const dir = mkdtempSync(path.join(tmpdir(), 'director-conn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const states = ['ESTABLISHED', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT'];
function table(n: number): string {
  let s = CONN_HEADER;
  for (let i = 0; i < n; i++) {
    const client = (0x0a000000 + i).toString(16).toUpperCase().padStart(8, '0');
    s += `TCP ${client} C350 C0A89664 0050 C0A8960${(i % 2) + 2} 0050 ${states[i % 4]!.padEnd(11)}     100\n`;
  }
  return s;
}

describe('server/conn/reader on a file', () => {
  const file = path.join(dir, 'ip_vs_conn');
  writeFileSync(file, table(10_000));

  it('summarises across many small chunks (every line split somewhere)', async () => {
    const s = await summarizeConnections({ path: file, chunkSize: 97 });
    expect(s.connections).toBe(10_000);
    expect(s.byState).toEqual({ ESTABLISHED: 2500, SYN_RECV: 2500, FIN_WAIT: 2500, TIME_WAIT: 2500 });
    expect(s.destinations.map((d) => [d.label, d.connections, d.active])).toEqual([
      ['192.168.150.2:80', 5000, 2500], ['192.168.150.3:80', 5000, 0],
    ]);
    expect(s.malformed).toBe(0);
  });

  it('returns one filtered page with the total', async () => {
    const p = await readConnectionPage({ filter: { state: 'SYN_RECV', client: '10.0.0.0/24' }, offset: 10, limit: 5 }, { path: file });
    expect(p.total).toBe(64); // clients 10.0.0.0..255, every 4th from index 1
    expect(p.entries.map((e) => e.clientAddr)).toEqual(['10.0.0.41', '10.0.0.45', '10.0.0.49', '10.0.0.53', '10.0.0.57']);
  });

  it('validates the filter before touching the file', async () => {
    await expect(readConnectionPage({ filter: { client: 'nope' } }, { path: path.join(dir, 'missing') }))
      .rejects.toBeInstanceOf(ConnFilterError);
  });

  it('stops on abort', async () => {
    const ac = new AbortController();
    const p = summarizeConnections({ path: file, chunkSize: 1024, signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });

  it('yields to the event loop between chunks', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await summarizeConnections({ path: file, chunkSize: 512 });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(10);
  });

  it('a missing file is an error, not an empty table', async () => {
    await expect(summarizeConnections({ path: path.join(dir, 'missing') })).rejects.toThrow(/ENOENT/);
  });
});
