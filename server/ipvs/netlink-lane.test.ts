import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Lane, RequestTimeout } from './netlink-client';

/** What Lane uses of its socket; replies come only when the test gives them. */
class QuietSocket extends EventEmitter {
  private seq = 0;
  readonly waiting = new Map<number, (err: Error | null, msgs?: unknown[]) => void>();
  readonly forgotten: number[] = [];
  address() { return { port: 4242 }; }
  expect(cb: (err: Error | null, msgs?: unknown[]) => void): number { this.waiting.set(++this.seq, cb); return this.seq; }
  forget(seq: number) { this.forgotten.push(seq); this.waiting.delete(seq); }
  send(_type: number, _data: Buffer, _opts: unknown, cb: (e?: Error) => void) { cb(); }
  close() {}
  answer(seq: number, msgs: unknown[]) { const cb = this.waiting.get(seq)!; this.waiting.delete(seq); cb(null, msgs); }
}

describe('Lane: one watchdog instead of a timer per request', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('fails a request left unanswered after 1 to 1.5 times the time limit, and forgets it', async () => {
    const sock = new QuietSocket();
    const lane = new Lane(sock as never, 1000);
    const outcome: unknown[] = ['pending', 'pending'];
    const ask = (i: number) => lane.ask(16, Buffer.alloc(4), 0).then((m) => { outcome[i] = m; }, (e: unknown) => { outcome[i] = e; });
    void ask(0);
    // the second starts between two ticks of the watchdog the first one started
    await vi.advanceTimersByTimeAsync(400);
    void ask(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(outcome).toEqual(['pending', 'pending']);
    await vi.advanceTimersByTimeAsync(101);
    expect(outcome[0]).toBeInstanceOf(RequestTimeout);
    expect(outcome[1]).toBeInstanceOf(RequestTimeout);
    expect(sock.forgotten).toEqual([1, 2]);
    lane.close();
  });

  it('resolves answered requests, and the watchdog stops once nothing waits', async () => {
    const sock = new QuietSocket();
    const lane = new Lane(sock as never, 1000);
    const a = lane.ask(16, Buffer.alloc(4), 0);
    const b = lane.ask(16, Buffer.alloc(4), 0);
    expect(vi.getTimerCount()).toBe(1);
    sock.answer(2, ['b']);
    await vi.advanceTimersByTimeAsync(900);
    sock.answer(1, ['a']);
    expect(await a).toEqual(['a']);
    expect(await b).toEqual(['b']);
    // answered at 0.9 s of a 1 s limit: not failed at the ticks that follow, and the watchdog then stops
    await vi.advanceTimersByTimeAsync(2000);
    expect(vi.getTimerCount()).toBe(0);
    expect(sock.forgotten).toEqual([]);
    lane.close();
  });
});
