/**
 * Looks at the table every few seconds for hash skew (lib/live/hash-skew.ts):
 * only while a service uses sh, mh or dh, and from the hub's latest sample
 * (read again when older than the look's period).
 */
import { DEFAULT_SKEW, HASHING_SCHEDULERS, SkewDetector, type SkewAlarm, type SkewOptions } from '@/lib/live/hash-skew';
import type { ServiceEntry } from '@/lib/ipvs/model';

interface TableSource {
  latest(): readonly ServiceEntry[] | null;
  fresh(maxAgeMs: number): Promise<readonly ServiceEntry[] | null>;
}

const hashing = (t: readonly ServiceEntry[]) => t.some((s) => (HASHING_SCHEDULERS as readonly string[]).includes(s.scheduler));

export class SkewWatch {
  private readonly detector: SkewDetector;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly hub: TableSource, opts: Partial<SkewOptions> = {}, private readonly everyMs = 10_000) {
    this.detector = new SkewDetector({ ...DEFAULT_SKEW, ...opts });
  }

  start(): void {
    this.timer ??= setInterval(() => { void this.look().catch(() => { /* the hub reports its own read errors */ }); }, this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look (the timer's; tests call it). A table without hashing services costs no read. */
  async look(): Promise<void> {
    const known = this.hub.latest();
    const table = known && !hashing(known) ? known : await this.hub.fresh(this.everyMs);
    if (table) this.detector.observe(Date.now(), table);
  }

  alarms(): SkewAlarm[] {
    return this.detector.alarms(Date.now());
  }
}
