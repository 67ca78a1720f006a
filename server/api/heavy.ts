/**
 * One CPU-heavy job at a time (parsing, planning and formatting snapshots),
 * with a turn of the event loop between jobs. Such a job holds the loop while
 * it runs (a 10,000-service plan is most of a second); run side by side, or
 * back to back without a pause, several of them kept /healthz, ticks and
 * every other call waiting for all of them (four large snapshot.plan calls:
 * 5 s, issue 23 #3). Callers past `maxWaiting` are refused at once.
 */
import { TooManyError } from '@/lib/errors';

export class HeavyGate {
  private busy = false;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly maxWaiting: number) {}

  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.busy) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new TooManyError(`the agent is busy with ${this.waiting.length + 1} snapshot jobs; retry shortly`);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.busy = true;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // two checks of the loop later, not a microtask: the I/O that waited for this job (a /healthz probe,
      // a tick) and the job's own reply go first (one setImmediate could still run before the next poll)
      if (next) setImmediate(() => setImmediate(next));
      else this.busy = false;
    }
  }

  get queued(): number {
    return this.waiting.length;
  }
}

/** Snapshot parsing, planning and formatting, agent-wide. */
export const snapshotGate = new HeavyGate(32);
