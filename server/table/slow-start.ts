/**
 * Slow start: a real server added (or put back, by an operator or by health
 * checks) at weight 1 climbs to its weight in steps over a chosen time, each
 * step a journaled write through the one writer under the actor "slow start".
 * A ramp stops when an operator stops it, when someone else changes the
 * weight, when the server goes, or when its starter no longer wants it (a
 * health check failing again).
 */
import { PreconditionError } from '@/lib/errors';
import { destinationId, serviceId } from '@/lib/ipvs/ids';
import type { DestinationKey, ServiceKey } from '@/lib/ipvs/model';
import { readDestination, updateDestination, type WriteCtx } from './ops';

/** What a ramp writes with: a write context without the asker, who is the ramp itself. */
type AgentDeps = Omit<WriteCtx, 'auth' | 'remote'>;

export const SLOW_START_ACTOR = 'slow start';
/** at most this many steps, whatever the weight */
export const MAX_STEPS = 10;

export interface SlowStartState {
  service: ServiceKey;
  destination: DestinationKey;
  /** the weight it climbs to */
  target: number;
  /** the weight it has now */
  weight: number;
  step: number;
  steps: number;
  startedAt: number;
  endsAt: number;
  /** who started it */
  by: string;
}

export interface SlowStartOptions {
  /** asked before each step (under the write lock): false ends the ramp where it stands */
  while?: () => boolean;
}

interface Ramp { state: SlowStartState; timer: NodeJS.Timeout | null; deps: AgentDeps; opts: SlowStartOptions }

/** The weight after step i of n (1..n): from 1 to the target, evenly. */
export function stepWeight(target: number, i: number, n: number): number {
  return n <= 1 ? target : Math.max(1, Math.round(1 + ((target - 1) * (i - 1)) / (n - 1)));
}

export class SlowStarts {
  private readonly ramps = new Map<string, Ramp>();

  list(): SlowStartState[] {
    return [...this.ramps.values()].map((r) => ({ ...r.state }));
  }

  /**
   * Climbs from the weight 1 the server has now (the caller set it) to
   * `target` over `seconds`. Each step is journaled as the actor "slow start".
   */
  start(
    deps: AgentDeps, service: ServiceKey, destination: DestinationKey, target: number, seconds: number, by: string,
    opts: SlowStartOptions = {},
  ): SlowStartState {
    const id = rampId(service, destination);
    this.stop(service, destination);
    const steps = Math.max(2, Math.min(MAX_STEPS, target));
    const now = Date.now();
    const state: SlowStartState = {
      service, destination: { family: destination.family, address: destination.address, port: destination.port },
      target, weight: 1, step: 1, steps, startedAt: now, endsAt: now + seconds * 1000, by,
    };
    const ramp: Ramp = { state, timer: null, deps, opts };
    this.ramps.set(id, ramp);
    this.schedule(id, ramp, (seconds * 1000) / (steps - 1));
    return { ...state };
  }

  /** Ends a ramp where it stands (its weight stays); false when none runs. */
  stop(service: ServiceKey, destination: DestinationKey): boolean {
    const id = rampId(service, destination);
    const r = this.ramps.get(id);
    if (!r) return false;
    if (r.timer) clearTimeout(r.timer);
    this.ramps.delete(id);
    return true;
  }

  close(): void {
    for (const r of this.ramps.values()) if (r.timer) clearTimeout(r.timer);
    this.ramps.clear();
  }

  private schedule(id: string, ramp: Ramp, stepMs: number): void {
    ramp.timer = setTimeout(() => {
      ramp.timer = null;
      void this.next(id, ramp, stepMs).catch((e: unknown) => {
        ramp.deps.log.error({ err: e, destination: id }, 'slow start step failed; the ramp stops');
        if (this.ramps.get(id) === ramp) this.ramps.delete(id);
      });
    }, stepMs);
    ramp.timer.unref?.();
  }

  private async next(id: string, ramp: Ramp, stepMs: number): Promise<void> {
    const s = ramp.state;
    const deps = ramp.deps;
    const now = await readDestination(deps.backend, s.service, s.destination);
    // gone, or someone else set the weight: the ramp is no longer ours to drive
    if (!now || now.weight !== s.weight) {
      deps.log.info({ destination: id, found: now?.weight ?? null, expected: s.weight }, 'slow start stops: the weight changed under it');
      this.end(id, ramp);
      return;
    }
    if (this.ramps.get(id) !== ramp) return;
    const step = s.step + 1;
    const weight = stepWeight(s.target, step, s.steps);
    const ctx: WriteCtx = { ...deps, auth: { role: 'operator', tokenName: SLOW_START_ACTOR, actor: SLOW_START_ACTOR }, remote: 'agent' };
    try {
      // checked again under the lock: a write since the read above (a health check quiescing it) wins
      await updateDestination(ctx, s.service, s.destination, { weight }, 'destinations.slowStart', {
        unless: (before) => {
          if (this.ramps.get(id) !== ramp) return 'the slow start was stopped';
          if (before.weight !== s.weight) return `the weight changed under the slow start (${s.weight} -> ${before.weight})`;
          if (ramp.opts.while && !ramp.opts.while()) return 'its starter no longer wants it';
          return null;
        },
      });
    } catch (e) {
      if (!(e instanceof PreconditionError)) throw e;
      deps.log.info({ destination: id, why: e.message }, 'slow start stops');
      this.end(id, ramp);
      return;
    }
    if (this.ramps.get(id) !== ramp) return;
    s.step = step;
    s.weight = weight;
    if (step >= s.steps) this.ramps.delete(id);
    else this.schedule(id, ramp, stepMs);
  }

  private end(id: string, ramp: Ramp): void {
    if (this.ramps.get(id) === ramp) this.ramps.delete(id);
  }
}

function rampId(service: ServiceKey, d: DestinationKey): string {
  return `${serviceId(service)}/${destinationId(d)}`;
}
