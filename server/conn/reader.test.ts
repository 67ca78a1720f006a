import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CONN_HEADER, formatConnLine } from '@/lib/conn/format';
import { ConnFilterError, type ConnPageRequest } from '@/lib/conn/summary';
import { arbConnEntry } from '@/lib/conn/testing';
import { CONN_WORKER_NICE } from './worker';
import { connWorkerThreads, readConnectionPage, setConnWorkerForTests, summarizeConnections, type ReadOptions } from './reader';

const dir = mkdtempSync(path.join(tmpdir(), 'director-conn-'));
afterAll(() => {
  setConnWorkerForTests(undefined);
  rmSync(dir, { recursive: true, force: true });
});

const states = ['ESTABLISHED', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT'];
function table(n: number): string {
  let s = CONN_HEADER;
  for (let i = 0; i < n; i++) {
    const client = (0x0a000000 + i).toString(16).toUpperCase().padStart(8, '0');
    s += `TCP ${client} C350 C0A89664 0050 C0A8960${(i % 2) + 2} 0050 ${states[i % 4]!.padEnd(11)}     100\n`;
  }
  return s;
}

const file = path.join(dir, 'ip_vs_conn');
writeFileSync(file, table(10_000));
const missing = path.join(dir, 'missing');

/** Polls until `cond` holds (worker exits are reported asynchronously). */
async function eventually(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(['main', 'worker'] as const)('server/conn/reader on a file, %s thread', (thread) => {
  const o = (more: ReadOptions = {}): ReadOptions => ({ path: file, thread, ...more });

  it('summarises across many small chunks (every line split somewhere)', async () => {
    const s = await summarizeConnections(o({ chunkSize: 97 }));
    expect(s.connections).toBe(10_000);
    expect(s.byState).toEqual({ ESTABLISHED: 2500, SYN_RECV: 2500, FIN_WAIT: 2500, TIME_WAIT: 2500 });
    expect(s.destinations.map((d) => [d.label, d.connections, d.active])).toEqual([
      ['192.168.150.2:80', 5000, 2500], ['192.168.150.3:80', 5000, 0],
    ]);
    expect(s.malformed).toBe(0);
  });

  it('returns one filtered page with the total', async () => {
    const p = await readConnectionPage({ filter: { state: 'SYN_RECV', client: '10.0.0.0/24' }, offset: 10, limit: 5 }, o());
    expect(p.total).toBe(64); // clients 10.0.0.0..255, every 4th from index 1
    expect(p.entries.map((e) => e.clientAddr)).toEqual(['10.0.0.41', '10.0.0.45', '10.0.0.49', '10.0.0.53', '10.0.0.57']);
  });

  it('validates the filter before touching the file (ConnFilterError names the field)', async () => {
    const e = await readConnectionPage({ filter: { client: 'nope' } }, o({ path: missing })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConnFilterError);
    expect((e as ConnFilterError).field).toBe('client');
    await expect(readConnectionPage({ limit: 0 }, o())).rejects.toMatchObject({ name: 'ConnFilterError', field: 'limit' });
  });

  it('stops on abort', async () => {
    const ac = new AbortController();
    const p = summarizeConnections(o({ chunkSize: 1024, signal: ac.signal }));
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });

  it('an aborted signal stops it before it starts', async () => {
    await expect(summarizeConnections(o({ signal: AbortSignal.abort(new Error('early')) }))).rejects.toThrow('early');
  });

  it('a missing file is an error, not an empty table', async () => {
    const e = await summarizeConnections(o({ path: missing })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ code: 'ENOENT', syscall: 'open', path: missing });
    expect((e as Error).message).toMatch(/ENOENT/);
  });

  it('reports the time it holds the event loop through onSlice', async () => {
    const slices: number[] = [];
    await summarizeConnections(o({ chunkSize: 4096, onSlice: (ms) => slices.push(ms) }));
    // main thread: one slice per chunk; worker: one, for taking in the result
    if (thread === 'main') expect(slices.length).toBeGreaterThan(100);
    else expect(slices.length).toBe(1);
  });
});

describe('server/conn/reader: worker and main thread agree', () => {
  // varied entries: IPv6, fwmark templates, persistence engines, every protocol and state
  const entries = fc.sample(arbConnEntry, { numRuns: 3000, seed: 42 });
  const varied = path.join(dir, 'varied');
  writeFileSync(varied, CONN_HEADER + entries.map(formatConnLine).join('') + 'garbage line\n');

  it('gives identical summaries', async () => {
    const m = await summarizeConnections({ path: varied, thread: 'main', chunkSize: 333 });
    const w = await summarizeConnections({ path: varied, thread: 'worker', chunkSize: 333 });
    expect(m.connections + m.templates).toBe(3000);
    expect(m.malformed).toBe(1);
    expect(w).toStrictEqual(m);
  });

  const requests: ConnPageRequest[] = [
    { limit: 10_000 },
    { offset: 100, limit: 50 },
    { filter: { template: true }, limit: 500 },
    { filter: { protocol: 'udp', client: '128.0.0.0/1' } },
    { filter: { client: '8000::/1', state: ['ESTABLISHED', 'NONE'] } },
    { filter: { destination: { address: entries[7]!.destAddr } } },
  ];
  it.each(requests)('gives identical pages for %j', async (req) => {
    const m = await readConnectionPage(req, { path: varied, thread: 'main' });
    const w = await readConnectionPage(req, { path: varied, thread: 'worker' });
    expect(w).toStrictEqual(m);
  });

  it("gives 'auto' the same answer", async () => {
    expect(await summarizeConnections({ path: varied })).toStrictEqual(await summarizeConnections({ path: varied, thread: 'main' }));
  });
});

describe('server/conn/reader: worker threads', () => {
  afterEach(() => setConnWorkerForTests(undefined));

  it('runs at most two reads at once; the others queue and all get their answer', async () => {
    let most = 0;
    const probe = setInterval(() => { most = Math.max(most, connWorkerThreads()); }, 1);
    const all = await Promise.all(Array.from({ length: 6 }, () => summarizeConnections({ path: file, thread: 'worker' })));
    clearInterval(probe);
    expect(all.map((x) => x.connections)).toEqual(Array(6).fill(10_000));
    expect(most).toBeGreaterThanOrEqual(1);
    expect(most).toBeLessThanOrEqual(2);
  });

  it('keeps one worker between reads and ends it on abort', async () => {
    await summarizeConnections({ path: file, thread: 'worker' });
    await summarizeConnections({ path: file, thread: 'worker' });
    expect(connWorkerThreads()).toBe(1);

    // a table big enough that the worker is still reading when the abort comes
    const big = path.join(dir, 'big');
    writeFileSync(big, table(300_000));
    const ac = new AbortController();
    const p = summarizeConnections({ path: big, thread: 'worker', chunkSize: 4096, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 5);
    await expect(p).rejects.toThrow('stop');
    await eventually(() => connWorkerThreads() === 0);

    // and the next read starts a fresh one
    expect((await summarizeConnections({ path: file, thread: 'worker' })).connections).toBe(10_000);
  });

  /** nice of a task, from its stat file (field 19, counted after the command name) */
  const niceOf = (stat: string) => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  it.skipIf(!existsSync('/proc/thread-self/stat'))('runs the worker below the event loop (a higher nice value), the calling thread unchanged', async () => {
    const mine = niceOf(readFileSync('/proc/thread-self/stat', 'utf8'));
    await summarizeConnections({ path: file, thread: 'worker' });
    const nices = readdirSync('/proc/self/task').map((t) => { try { return niceOf(readFileSync(`/proc/self/task/${t}/stat`, 'utf8')); } catch { return null; } });
    expect(nices).toContain(CONN_WORKER_NICE);
    expect(niceOf(readFileSync('/proc/thread-self/stat', 'utf8'))).toBe(mine);
  });

  it('keeps the event loop free while the worker reads', async () => {
    const big = path.join(dir, 'big2');
    writeFileSync(big, table(200_000));
    await summarizeConnections({ path: file, thread: 'worker' }); // started and warm
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const s = await summarizeConnections({ path: big, thread: 'worker' });
    clearInterval(timer);
    expect(s.connections).toBe(200_000);
    expect(ticks).toBeGreaterThan(10);
  });

  it('the main thread yields between chunks', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await summarizeConnections({ path: file, chunkSize: 512, thread: 'main' });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(10);
  });

  it("falls back to the main thread when no worker is available ('auto'), refuses with 'worker'", async () => {
    setConnWorkerForTests(null);
    expect((await summarizeConnections({ path: file })).connections).toBe(10_000);
    await expect(summarizeConnections({ path: file, thread: 'worker' })).rejects.toThrow(/no worker thread/);
  });

  it("falls back when the worker fails to start ('auto'), and says why with 'worker'", async () => {
    setConnWorkerForTests({ url: pathToFileURL(path.join(dir, 'no-such-worker.mjs')) });
    const p = await readConnectionPage({ filter: { state: 'SYN_RECV' }, limit: 3 }, { path: file });
    expect(p.total).toBe(2500);
    await expect(summarizeConnections({ path: file, thread: 'worker' })).rejects.toMatchObject({ name: 'WorkerStartError' });
    await eventually(() => connWorkerThreads() === 0);
  });
});
