import { describe, expect, it } from 'vitest';
import { TooManyError } from '@/lib/errors';
import { toTRPCError } from './errors';
import { HeavyGate } from './heavy';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a CPU-bound job */ }
}

describe('HeavyGate', () => {
  it('runs one job at a time, and lets waiting I/O and timers run between jobs', async () => {
    const gate = new HeavyGate(8);
    const order: string[] = [];
    let running = 0;
    let most = 0;
    const job = (name: string) => gate.run(async () => {
      running++;
      most = Math.max(most, running);
      order.push(`${name} start`);
      // stands for a /healthz probe arriving while the job holds the loop
      setTimeout(() => order.push(`timer during ${name}`), 0);
      busy(20);
      await Promise.resolve();
      busy(20);
      running--;
      order.push(`${name} end`);
      return name;
    });
    expect(await Promise.all([job('a'), job('b'), job('c')])).toEqual(['a', 'b', 'c']);
    expect(most).toBe(1);
    expect(order).toEqual([
      'a start', 'a end', 'timer during a',
      'b start', 'b end', 'timer during b',
      'c start', 'c end',
    ]);
  });

  it('refuses callers past its queue at once, and recovers', async () => {
    const gate = new HeavyGate(2);
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((r) => { release = r; }));
    const queued = [gate.run(() => 1), gate.run(() => 2)];
    const refused = await gate.run(() => 3).then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(TooManyError);
    expect(toTRPCError(refused).code).toBe('TOO_MANY_REQUESTS');
    release();
    await first;
    expect(await Promise.all(queued)).toEqual([1, 2]);
    expect(await gate.run(() => 4)).toBe(4);
    expect(gate.queued).toBe(0);
  });

  it('passes a job failure to its caller and goes on with the next', async () => {
    const gate = new HeavyGate(2);
    const bad = gate.run(() => { throw new Error('bad snapshot'); });
    const good = gate.run(() => 'ok');
    await expect(bad).rejects.toThrow('bad snapshot');
    expect(await good).toBe('ok');
  });
});
