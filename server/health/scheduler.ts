/**
 * Owns the timing of health checks (seesaw's healthcheck/core.go split): one
 * probe per (real server, check), each with keepalived's delay loop, retries,
 * delay before retry and a random first run within the warmup. A real server
 * is up when all its probes are up and down when any is down; the scheduler
 * reports a server only when that changes. Checkers are injected, so tests
 * drive it with fake timers and scripted results.
 */
import type { HealthState, ResolvedTiming } from '@/lib/schemas/health';
import type { CheckResult } from './checkers/types';

export interface ProbeSpec {
  /** stable while the check and its timing are unchanged: a changed check restarts its probe */
  key: string;
  timing: ResolvedTiming;
  run(signal: AbortSignal): Promise<CheckResult>;
}

export interface TargetSpec {
  /** "<serviceId> <destinationId>" */
  id: string;
  probes: ProbeSpec[];
}

export interface TargetStatus {
  id: string;
  state: HealthState;
  /** ms epoch of the last state change (or of the scheduler's start for 'unknown') */
  since: number;
  lastMessage: string | null;
  lastDurationMs: number | null;
  lastCheckedAt: number | null;
  /** consecutive failures of the probe currently failing (0 when all pass) */
  failures: number;
}

export interface Transition {
  id: string;
  from: HealthState;
  to: HealthState;
  at: number;
  message: string;
  durationMs: number;
  /** misc_dynamic weight asked for by the probe that passed, if any */
  weight?: number;
}

export interface SchedulerOptions {
  onTransition(t: Transition): void;
  /** every result, for metrics and the "last message" column */
  onResult?(id: string, probeKey: string, r: CheckResult): void;
  /** uniform in [0, 1): the warmup stagger */
  random?: () => number;
  now?: () => number;
}

class Probe {
  state: HealthState = 'unknown';
  failures = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private abort: AbortController | null = null;
  private stopped = false;

  constructor(readonly spec: ProbeSpec, private readonly onDone: (p: Probe, r: CheckResult) => void) {}

  start(firstDelayMs: number): void {
    this.schedule(firstDelayMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    this.timer = null;
    const t = this.spec.timing;
    this.abort = new AbortController();
    // a checker that ignores its own timeout must not stall the loop forever
    const guard = setTimeout(() => this.abort?.abort(), t.connectTimeout * 1000 + Math.max(t.delayLoop, 1) * 1000);
    let r: CheckResult;
    try {
      r = await this.spec.run(this.abort.signal);
    } catch (e) {
      r = { ok: false, message: `checker failed: ${(e as Error).message}`, durationMs: 0 };
    } finally {
      clearTimeout(guard);
      this.abort = null;
    }
    if (this.stopped) return;
    let next: number;
    if (r.refused) {
      // not run: no evidence either way, so no retry count and no transition
      next = t.delayLoop;
    } else if (r.ok) {
      // a down server comes back on its first success, as keepalived
      this.failures = 0;
      this.state = 'up';
      next = t.delayLoop;
    } else if (this.state === 'down') {
      next = t.delayLoop;
    } else {
      this.failures++;
      if (this.failures > t.retry) {
        this.state = 'down';
        this.failures = 0;
        next = t.delayLoop;
      } else {
        next = t.delayBeforeRetry;
      }
    }
    this.onDone(this, r);
    this.schedule(next * 1000);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.abort();
  }
}

class Target {
  state: HealthState = 'unknown';
  since: number;
  lastMessage: string | null = null;
  lastDurationMs: number | null = null;
  lastCheckedAt: number | null = null;
  probes = new Map<string, Probe>();
  constructor(readonly id: string, now: number) {
    this.since = now;
  }
}

export class HealthScheduler {
  private targets = new Map<string, Target>();
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly opts: SchedulerOptions) {
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
  }

  /** Makes the running probes match `specs`: unchanged probes keep their state and timers. */
  set(specs: readonly TargetSpec[]): void {
    const wanted = new Map(specs.map((s) => [s.id, s]));
    for (const [id, t] of this.targets) {
      if (!wanted.has(id)) {
        for (const p of t.probes.values()) p.stop();
        this.targets.delete(id);
      }
    }
    for (const spec of specs) {
      let t = this.targets.get(spec.id);
      if (!t) this.targets.set(spec.id, (t = new Target(spec.id, this.now())));
      const keys = new Set(spec.probes.map((p) => p.key));
      for (const [k, p] of t.probes) {
        if (!keys.has(k)) {
          p.stop();
          t.probes.delete(k);
        }
      }
      for (const ps of spec.probes) {
        if (t.probes.has(ps.key)) continue;
        const target = t;
        const probe = new Probe(ps, (p, r) => this.onProbeDone(target, p, r));
        t.probes.set(ps.key, probe);
        const w = ps.timing.warmup;
        probe.start(w > 0 ? Math.floor(this.random() * w * 1000) : 0);
      }
    }
  }

  private onProbeDone(t: Target, p: Probe, r: CheckResult): void {
    if (this.targets.get(t.id) !== t || t.probes.get(p.spec.key) !== p) return;
    t.lastMessage = r.message;
    t.lastDurationMs = r.durationMs;
    t.lastCheckedAt = this.now();
    this.opts.onResult?.(t.id, p.spec.key, r);
    const states = [...t.probes.values()].map((x) => x.state);
    // any down wins; up needs every probe up; otherwise (some not yet run) nothing is known to have changed
    const agg: HealthState | null = states.includes('down') ? 'down' : states.every((s) => s === 'up') ? 'up' : null;
    if (agg === null || agg === t.state) return;
    const from = t.state;
    t.state = agg;
    t.since = this.now();
    this.opts.onTransition({
      id: t.id, from, to: agg, at: t.since, message: r.message, durationMs: r.durationMs,
      ...(r.weight !== undefined ? { weight: r.weight } : {}),
    });
  }

  status(id: string): TargetStatus | null {
    const t = this.targets.get(id);
    if (!t) return null;
    const failures = Math.max(0, ...[...t.probes.values()].map((p) => p.failures));
    return {
      id, state: t.state, since: t.since, lastMessage: t.lastMessage, lastDurationMs: t.lastDurationMs,
      lastCheckedAt: t.lastCheckedAt, failures,
    };
  }

  ids(): string[] {
    return [...this.targets.keys()];
  }

  stop(): void {
    for (const t of this.targets.values()) for (const p of t.probes.values()) p.stop();
    this.targets.clear();
  }
}
