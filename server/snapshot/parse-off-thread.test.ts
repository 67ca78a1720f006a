import { describe, expect, it } from 'vitest';
import { parseSnapshotText, lastParseThread, OFF_THREAD_MIN_CHARS } from './parse-off-thread';

function rules(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const a = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const l = `-A -t ${a}:80 -s rr\n-a -t ${a}:80 -r 192.168.1.1:80 -m -w 1\n`;
    lines.push(l);
    size += l.length;
  }
  return lines.join('');
}

/** The longest the event loop went without running a 10 ms timer, while `run` ran. */
async function worstStall<T>(run: () => Promise<T>): Promise<{ value: T; stallMs: number }> {
  let stallMs = 0;
  let last = performance.now();
  const t = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 10);
  try {
    const value = await run();
    // a parse that never let the timer run shows here
    return { value, stallMs: Math.max(stallMs, performance.now() - last) };
  } finally {
    clearInterval(t);
  }
}

describe('parseSnapshotText', () => {
  it('parses a large ipvsadm text on a worker thread, the loop free meanwhile, with the same result as inline', async () => {
    const text = rules(1024 * 1024);
    const inline = await worstStall(() => parseSnapshotText({ format: 'ipvsadm', text }, { thread: 'main' }));
    const off = await worstStall(() => parseSnapshotText({ format: 'ipvsadm', text }));
    expect(lastParseThread).toBe('worker');
    expect(off.value).toEqual(inline.value);
    if (off.value.format !== 'ipvsadm') throw new Error('format');
    expect(off.value.result.errors).toEqual([]);
    expect(off.value.result.services.length).toBeGreaterThan(10_000);
    console.log(`inline stall ${Math.round(inline.stallMs)} ms, worker stall ${Math.round(off.stallMs)} ms`);
    // the inline parse holds the loop for the whole parse; the worker's start and its result's arrival only briefly
    expect(off.stallMs).toBeLessThan(inline.stallMs / 2);
  }, 60_000);

  it('parses small texts inline', async () => {
    const r = await parseSnapshotText({ format: 'ipvsadm', text: '-A -t 10.0.0.1:80 -s rr\n' });
    expect(lastParseThread).toBe('inline');
    expect(r.format === 'ipvsadm' && r.result.services).toHaveLength(1);
    expect(OFF_THREAD_MIN_CHARS).toBeGreaterThan(1000);
  });

  it('returns JSON snapshot errors from the worker', async () => {
    const r = await parseSnapshotText({ format: 'json', text: '{"version":1,' + ' '.repeat(OFF_THREAD_MIN_CHARS) + '"services": 5}' });
    expect(lastParseThread).toBe('worker');
    expect(r.format === 'json' && r.result.ok).toBe(false);
  }, 60_000);
});
