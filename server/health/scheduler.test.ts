/** The scheduler's timing with fake timers and scripted check results. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResolvedTiming } from '@/lib/schemas/health';
import type { CheckResult } from './checkers/types';
import { HealthScheduler, type Transition } from './scheduler';

const T: ResolvedTiming = { delayLoop: 6, connectTimeout: 3, retry: 2, delayBeforeRetry: 1, warmup: 0 };

/** A scripted server: `up` decides each answer; every call is timestamped. */
function server() {
  const s = { up: true, calls: [] as number[] };
  const run = async (): Promise<CheckResult> => {
    s.calls.push(Date.now());
    return s.up ? { ok: true, message: 'HTTP 200', durationMs: 2 } : { ok: false, message: 'HTTP 503', durationMs: 3 };
  };
  return { s, run };
}

describe('HealthScheduler', () => {
  let events: Transition[];
  let sched: HealthScheduler;
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    events = [];
    sched = new HealthScheduler({ onTransition: (t) => events.push(t), random: () => 0.5 });
  });
  afterEach(() => {
    sched.stop();
    vi.useRealTimers();
  });

  it('first result is a transition from unknown; passing checks after it emit nothing', async () => {
    const a = server();
    sched.set([{ id: 'a', probes: [{ key: 'k', timing: T, run: a.run }] }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(events.map((e) => [e.from, e.to])).toEqual([['unknown', 'up']]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(a.s.calls.length).toBe(11); // t=0, then every 6 s
    expect(events.length).toBe(1);
    expect(sched.status('a')).toMatchObject({ state: 'up', lastMessage: 'HTTP 200', lastDurationMs: 2, failures: 0 });
  });

  it('declares down only after retry+1 failures, spaced by delay_before_retry, then checks every delay_loop', async () => {
    const a = server();
    sched.set([{ id: 'a', probes: [{ key: 'k', timing: T, run: a.run }] }]);
    await vi.advanceTimersByTimeAsync(0);
    a.s.up = false;
    await vi.advanceTimersByTimeAsync(6000); // t=6: 1st failure
    expect(events.length).toBe(1);
    expect(sched.status('a')!.failures).toBe(1);
    await vi.advanceTimersByTimeAsync(1000); // t=7: 2nd
    expect(events.length).toBe(1);
    await vi.advanceTimersByTimeAsync(1000); // t=8: 3rd = retry+1 -> down
    expect(events.map((e) => [e.from, e.to, e.at, e.message])).toEqual([['unknown', 'up', 0, 'HTTP 200'], ['up', 'down', 8000, 'HTTP 503']]);
    expect(a.s.calls).toEqual([0, 6000, 7000, 8000]);
    await vi.advanceTimersByTimeAsync(12_000);
    expect(a.s.calls.slice(4)).toEqual([14_000, 20_000]); // down: delay_loop, no retries
    expect(events.length).toBe(2);
  });

  it('worst-case detection stays within delay_loop x (retry+1)', async () => {
    const a = server();
    sched.set([{ id: 'a', probes: [{ key: 'k', timing: T, run: a.run }] }]);
    await vi.advanceTimersByTimeAsync(1);
    a.s.up = false; // just after a check: the longest wait
    await vi.advanceTimersByTimeAsync(T.delayLoop * (T.retry + 1) * 1000);
    expect(events.at(-1)!.to).toBe('down');
  });

  it('a failure that recovers within the retries is not a transition', async () => {
    const a = server();
    sched.set([{ id: 'a', probes: [{ key: 'k', timing: T, run: a.run }] }]);
    await vi.advanceTimersByTimeAsync(0);
    a.s.up = false;
    await vi.advanceTimersByTimeAsync(6000);
    a.s.up = true;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(events.length).toBe(1);
    expect(sched.status('a')!.failures).toBe(0);
  });

  it('down -> up on the first success', async () => {
    const a = server();
    a.s.up = false;
    sched.set([{ id: 'a', probes: [{ key: 'k', timing: { ...T, retry: 0 }, run: a.run }] }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(events.map((e) => e.to)).toEqual(['down']);
    a.s.up = true;
    await vi.advanceTimersByTimeAsync(6000);
    expect(events.map((e) => [e.from, e.to, e.at])).toEqual([['unknown', 'down', 0], ['down', 'up', 6000]]);
  });

  it('staggers first runs within the warmup', async () => {
    const rand = [0.1, 0.9];
    sched.stop();
    sched = new HealthScheduler({ onTransition: (t) => events.push(t), random: () => rand.shift()! });
    const a = server(), b = server();
    sched.set([
      { id: 'a', probes: [{ key: 'k', timing: { ...T, warmup: 10 }, run: a.run }] },
      { id: 'b', probes: [{ key: 'k', timing: { ...T, warmup: 10 }, run: b.run }] },
    ]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(a.s.calls[0]).toBe(1000);
    expect(b.s.calls[0]).toBe(9000);
  });

  it('a server is up when every probe is up and down when any is down', async () => {
    const http = server(), tcp = server();
    http.s.up = false;
    sched.set([{ id: 'a', probes: [
      { key: 'http', timing: { ...T, retry: 0 }, run: http.run },
      { key: 'tcp', timing: { ...T, retry: 0 }, run: tcp.run },
    ] }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(events.map((e) => e.to)).toEqual(['down']);
    http.s.up = true;
    await vi.advanceTimersByTimeAsync(6000);
    expect(events.map((e) => e.to)).toEqual(['down', 'up']);
  });

  it('keeps state for unchanged probes across set(); removes dropped targets and stops their timers', async () => {
    const a = server(), b = server();
    sched.set([{ id: 'a', probes: [{ key: 'k', timing: T, run: a.run }] }, { id: 'b', probes: [{ key: 'k', timing: T, run: b.run }] }]);
    await vi.advanceTimersByTimeAsync(0);
    sched.set([{ id: 'a', probes: [{ key: 'k', timing: T, run: a.run }] }]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(b.s.calls.length).toBe(1);
    expect(sched.ids()).toEqual(['a']);
    expect(events.filter((e) => e.id === 'a').length).toBe(1); // no second unknown->up
  });

  it('a checker that throws counts as a failure with its message; a hung one is aborted by the guard', async () => {
    sched.set([{ id: 'a', probes: [{ key: 'k', timing: { ...T, retry: 0 }, run: async () => { throw new Error('boom'); } }] }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(events[0]).toMatchObject({ to: 'down', message: 'checker failed: boom' });
    sched.set([{ id: 'h', probes: [{ key: 'k', timing: { ...T, retry: 0 }, run: (signal) => new Promise((resolve) => {
      signal.addEventListener('abort', () => resolve({ ok: false, message: 'check cancelled', durationMs: 9000 }));
    }) }] }]);
    await vi.advanceTimersByTimeAsync(9000);
    expect(events.find((e) => e.id === 'h')).toMatchObject({ to: 'down', at: 9000 });
  });

  it('passes a misc_dynamic weight along with the up transition', async () => {
    sched.set([{ id: 'a', probes: [{ key: 'k', timing: T, run: async () => ({ ok: true, message: 'exit 7 (weight 5)', durationMs: 1, weight: 5 }) }] }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(events[0]).toMatchObject({ to: 'up', weight: 5 });
  });

  it('a refused check (not run) counts no failure and makes no transition', async () => {
    let refused = false;
    let calls = 0;
    const run = async (): Promise<CheckResult> => {
      calls++;
      return refused ? { ok: false, refused: true, message: 'not run: script x: no such file', durationMs: 0 } : { ok: true, message: 'exit 0', durationMs: 1 };
    };
    sched.set([{ id: 'a', probes: [{ key: 'k', timing: T, run }] }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(events.map((e) => e.to)).toEqual(['up']);
    refused = true;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(11); // still every delay loop, no retries
    expect(events.map((e) => e.to)).toEqual(['up']);
    expect(sched.status('a')).toMatchObject({ state: 'up', failures: 0, lastMessage: 'not run: script x: no such file' });
  });
});
