import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONN_HEADER } from '@/lib/conn/format';
import { ConnFilterError } from '@/lib/conn/summary';
import { connWorkerThreads, setConnWorkerForTests } from '../conn/reader';
import { MAIN_THREAD_BYTES, procConnSource } from './conn-source';

const dir = mkdtempSync(path.join(tmpdir(), 'director-conn-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** n entries, every one in `state`, clients 10.0.0.x */
function table(n: number, state: string): string {
  let s = CONN_HEADER;
  for (let i = 0; i < n; i++) {
    const client = (0x0a000000 + i).toString(16).toUpperCase().padStart(8, '0');
    s += `TCP ${client} C350 C0A89664 0050 C0A89602 0050 ${state.padEnd(11)}     100\n`;
  }
  return s;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(['main', 'worker'] as const)('procConnSource, %s thread: pages cut from the latest walk', (thread) => {
  it('serves pages from the walk a summary made while it is fresh, and walks again once it is stale', async () => {
    const file = path.join(dir, `a-${thread}`);
    writeFileSync(file, table(3000, 'ESTABLISHED'));
    const src = procConnSource({ path: file, thread, pageMaxAgeMs: 300 });
    const t0 = performance.now();
    const s = await src.summary(0);
    const walkMs = performance.now() - t0;
    expect(s.summary.byState).toEqual({ ESTABLISHED: 3000 });
    // the kernel table moves on; a page asked now comes from the kept walk, consistent with the summary
    writeFileSync(file, table(1000, 'TIME_WAIT'));
    const p = await src.list({ offset: 2990, limit: 100 });
    expect(p.total).toBe(3000);
    expect(p.entries).toHaveLength(10);
    expect(new Set(p.entries.map((e) => e.state))).toEqual(new Set(['ESTABLISHED']));
    const filtered = await src.list({ filter: { state: 'TIME_WAIT' } });
    expect(filtered.total).toBe(0);
    // stale past pageMaxAgeMs, or twice what the walk took (a slow walk's bytes stay usable longer)
    await sleep(Math.max(300, 2 * walkMs) + 100);
    const later = await src.list({ limit: 5 });
    expect(later.total).toBe(1000);
    expect(later.entries.every((e) => e.state === 'TIME_WAIT')).toBe(true);
    // that page's walk is the summary's too
    expect((await src.summary(10_000)).summary.byState).toEqual({ TIME_WAIT: 1000 });
  });

  it('a table larger than keepBytes: every page walks the file itself', async () => {
    const file = path.join(dir, `b-${thread}`);
    writeFileSync(file, table(500, 'SYN_RECV'));
    const src = procConnSource({ path: file, thread, keepBytes: 1000, pageMaxAgeMs: 60_000 });
    expect((await src.list({})).total).toBe(500);
    writeFileSync(file, table(20, 'FIN_WAIT'));
    const p = await src.list({});
    expect(p.total).toBe(20);
    expect(p.entries[0]!.state).toBe('FIN_WAIT');
  });

  it('refuses a bad filter before reading anything', async () => {
    const src = procConnSource({ path: path.join(dir, 'missing'), thread });
    await expect(src.list({ limit: 0 })).rejects.toBeInstanceOf(ConnFilterError);
    await expect(src.list({})).rejects.toThrow(/ENOENT/);
  });
});

describe('procConnSource: which thread walks the table', () => {
  afterAll(() => setConnWorkerForTests(undefined));
  const workerGone = async () => {
    setConnWorkerForTests(undefined); // drops the parked worker
    for (let i = 0; i < 200 && connWorkerThreads() > 0; i++) await sleep(25);
    expect(connWorkerThreads()).toBe(0);
  };

  it('after a walk of a small file the next runs on the main thread; after a large one, in a worker', async () => {
    const file = path.join(dir, 'threads');
    writeFileSync(file, table(100, 'ESTABLISHED'));
    const src = procConnSource({ path: file });
    await workerGone();
    // nothing known yet: the worker
    expect((await src.summary(0)).summary.byState).toEqual({ ESTABLISHED: 100 });
    expect(connWorkerThreads()).toBe(1);
    await workerGone();
    const line = table(2, 'ESTABLISHED').length - table(1, 'ESTABLISHED').length;
    writeFileSync(file, table(Math.ceil((MAIN_THREAD_BYTES * 1.5) / line), 'ESTABLISHED'));
    const big = await src.summary(0);
    expect(connWorkerThreads(), 'the last walk found 100 entries: this one ran here').toBe(0);
    expect(big.summary.connections).toBeGreaterThan(10_000);
    writeFileSync(file, table(10, 'TIME_WAIT'));
    expect((await src.summary(0)).summary.byState).toEqual({ TIME_WAIT: 10 });
    expect(connWorkerThreads(), 'the last walk read over MAIN_THREAD_BYTES: this one went to a worker').toBe(1);
  });
});

describe('procConnSource: a walk nobody waits for any more stops', () => {
  afterAll(() => setConnWorkerForTests(undefined));
  // big enough that the walk is still going when the callers leave
  const file = path.join(dir, 'big');
  writeFileSync(file, table(100_000, 'ESTABLISHED'));
  const stopped = () => new Error('caller gone');
  // what a summary settles to, without handing vitest a walk (and its megabytes of kept bytes) to print
  const outcome = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e as Error).message);

  it('two callers share one walk; when one aborts, the other still gets the summary', async () => {
    const src = procConnSource({ path: file, thread: 'worker' });
    const a = new AbortController();
    const b = new AbortController();
    const left = src.summary(0, a.signal);
    const stays = src.summary(0, b.signal);
    const plain = src.summary(0); // a caller without a signal joins the same walk
    setTimeout(() => a.abort(stopped()), 5);
    expect(await outcome(left)).toBe('caller gone');
    const s = await stays;
    expect(s.summary.connections).toBe(100_000);
    expect(await plain === s, 'one walk for all three').toBe(true);
  });

  it('the only caller aborts: the walk stops, and the next summary walks afresh', async () => {
    const src = procConnSource({ path: file, thread: 'worker' });
    setConnWorkerForTests(undefined); // no parked worker: the count below is this walk's alone
    for (let i = 0; i < 200 && connWorkerThreads() > 0; i++) await sleep(25);
    const ac = new AbortController();
    const p = src.summary(0, ac.signal);
    setTimeout(() => ac.abort(stopped()), 5);
    expect(await outcome(p)).toBe('caller gone');
    // a walk that finished would park its worker (kept 30 s); a stopped one ends it
    for (let i = 0; i < 200 && connWorkerThreads() > 0; i++) await sleep(25);
    expect(connWorkerThreads()).toBe(0);
    expect((await src.summary(0)).summary.connections).toBe(100_000);
  });
});
