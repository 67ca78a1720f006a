/**
 * What a health transition does to the kernel's table, keepalived's way:
 * a failed server is quiesced (weight 0, existing connections continue;
 * inhibit_on_failure) or removed; a recovered one gets its configured weight
 * back, at once or ramped; a sorry server stands in while every real server
 * is down. Maintenance is the operator's word and beats any check: a passing
 * check never undoes it. Every write takes the agent's write lock, is read
 * back, and goes to the journal like an operator's change.
 */
import type { Logger } from 'pino';
import { destinationId, sameDestinationKey, serviceId } from '@/lib/ipvs/ids';
import { destinationSpecOf } from '@/lib/ipvs/config';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { isIpvsError } from '@/lib/ipvs/errors';
import type { DestinationSpec, DestinationState, ServiceKey } from '@/lib/ipvs/model';
import type { HealthServiceConfig, HealthState, RealServerHealth } from '@/lib/schemas/health';
import type { Journal, JournalObject } from '../table/journal';
import type { Mutex } from '../table/mutex';

export interface Actor {
  role: 'viewer' | 'operator';
  tokenName: string;
  /** the console user, when the console named one */
  actor?: string;
  remote: string;
}

/** The checker itself, in the journal. */
export const HEALTH_ACTOR: Actor = { role: 'operator', tokenName: 'health-check', remote: 'agent' };

export interface ActionDeps {
  backend: IpvsBackend;
  writeLock: Mutex;
  journal: Journal | null;
  /** tells live views the table changed */
  poke?: () => void;
  log: Logger;
}

export type ActionOutcome = { changed: boolean; note: string };

async function readDest(b: IpvsBackend, svc: ServiceKey, d: DestinationSpec): Promise<DestinationState | null> {
  try {
    return (await b.listDestinations(svc)).find((x) => sameDestinationKey(x, d)) ?? null;
  } catch (e) {
    if (isIpvsError(e) && e.code === 'service_not_found') return null;
    throw e;
  }
}

export class HealthActions {
  /** running ramps by "<service> <dest>": a later action cancels the ramp */
  private ramps = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly deps: ActionDeps) {}

  /**
   * One kernel write, journaled write-ahead like every other: `planned` is
   * recorded (fsynced) before `write` runs, which returns what it did. If the
   * journal cannot be written, the kernel is not touched.
   */
  private async journaled(actor: Actor, op: string, planned: JournalObject[], write: () => Promise<JournalObject[]>): Promise<void> {
    const j = this.deps.journal;
    if (!j) {
      await write();
      this.deps.poke?.();
      return;
    }
    const pending = await j.begin({
      role: actor.role, tokenName: actor.tokenName, ...(actor.actor !== undefined ? { actor: actor.actor } : {}), remote: actor.remote, op,
    }, planned);
    let objects: JournalObject[];
    try {
      objects = await write();
    } catch (e) {
      // a single refused operation changes nothing
      await pending.failed((e as Error)?.message ?? String(e), []);
      throw e;
    }
    await pending.done(objects);
    this.deps.poke?.();
  }

  private rampKey(cfg: HealthServiceConfig, d: DestinationSpec): string {
    return `${serviceId(cfg.service)} ${destinationId(d)}`;
  }

  private cancelRamp(cfg: HealthServiceConfig, d: DestinationSpec): void {
    const k = this.rampKey(cfg, d);
    const t = this.ramps.get(k);
    if (t) clearTimeout(t);
    this.ramps.delete(k);
  }

  /** Sets one real server's weight (adding it if it is missing). Under the write lock. */
  private async setWeight(cfg: HealthServiceConfig, rs: RealServerHealth, weight: number, actor: Actor, op: string): Promise<ActionOutcome> {
    return this.deps.writeLock.run(async () => {
      const b = this.deps.backend;
      const before = await readDest(b, cfg.service, rs.destination);
      if (before && before.weight === weight) return { changed: false, note: `weight already ${weight}` };
      const was = before ? destinationSpecOf(before) : null;
      const next = before ? { ...destinationSpecOf(before), weight } : { ...rs.destination, weight };
      await this.journaled(actor, op, [{ kind: 'destination', service: cfg.service, before: was, after: next }], async () => {
        if (before) await b.updateDestination(cfg.service, next);
        else await b.addDestination(cfg.service, next);
        const after = await readDest(b, cfg.service, rs.destination);
        return [{ kind: 'destination', service: cfg.service, before: was, after: after ? destinationSpecOf(after) : null }];
      });
      return { changed: true, note: before ? `weight ${before.weight} -> ${weight}` : `re-added with weight ${weight}` };
    });
  }

  private async remove(cfg: HealthServiceConfig, d: DestinationSpec, actor: Actor, op: string): Promise<ActionOutcome> {
    return this.deps.writeLock.run(async () => {
      const b = this.deps.backend;
      const before = await readDest(b, cfg.service, d);
      if (!before) return { changed: false, note: 'already removed' };
      const planned: JournalObject[] = [{ kind: 'destination', service: cfg.service, before: destinationSpecOf(before), after: null }];
      await this.journaled(actor, op, planned, async () => {
        await b.removeDestination(cfg.service, d);
        return planned;
      });
      return { changed: true, note: 'removed' };
    });
  }

  async down(cfg: HealthServiceConfig, rs: RealServerHealth): Promise<ActionOutcome> {
    this.cancelRamp(cfg, rs.destination);
    if (rs.maintenance) return { changed: false, note: 'in maintenance: left as the operator set it' };
    const action = rs.onFailure ?? cfg.onFailure;
    return action === 'remove'
      ? this.remove(cfg, rs.destination, HEALTH_ACTOR, 'health.down')
      : this.setWeight(cfg, rs, 0, HEALTH_ACTOR, 'health.down');
  }

  /**
   * Restores the configured weight (or the misc_dynamic weight). With a ramp,
   * the weight climbs in steps; `stillUp` is asked before each step so a ramp
   * stops when the server fails again or goes into maintenance.
   */
  async up(
    cfg: HealthServiceConfig, rs: RealServerHealth, stillUp: () => boolean, weight = rs.destination.weight,
    actor: Actor = HEALTH_ACTOR,
  ): Promise<ActionOutcome> {
    this.cancelRamp(cfg, rs.destination);
    if (rs.maintenance) return { changed: false, note: 'in maintenance: a passing check does not end it' };
    const steps = Math.min(10, weight);
    if (cfg.rampUpSec <= 0 || steps <= 1) return this.setWeight(cfg, rs, weight, actor, 'health.up');
    const stepMs = (cfg.rampUpSec * 1000) / steps;
    const key = this.rampKey(cfg, rs.destination);
    const at = (i: number) => Math.max(1, Math.round((weight * i) / steps));
    const first = await this.setWeight(cfg, rs, at(1), actor, 'health.up');
    const next = (i: number) => {
      this.ramps.set(key, setTimeout(() => {
        this.ramps.delete(key);
        if (!stillUp() || rs.maintenance) return;
        this.setWeight(cfg, rs, at(i), actor, 'health.ramp')
          .then(() => { if (i < steps) next(i + 1); })
          .catch((e: unknown) => this.deps.log.error({ err: e }, 'health ramp step failed'));
      }, stepMs));
    };
    next(2);
    return { changed: first.changed, note: `ramping to ${weight} over ${cfg.rampUpSec} s` };
  }

  /**
   * Adds the sorry server when no real server can take traffic (all down or
   * in maintenance), and removes it as soon as one can.
   */
  async syncSorry(cfg: HealthServiceConfig, stateOf: (rs: RealServerHealth) => HealthState): Promise<ActionOutcome> {
    const sorry = cfg.sorryServer;
    if (!sorry || cfg.realServers.length === 0) return { changed: false, note: 'no sorry server' };
    const noneLive = cfg.realServers.every((rs) => rs.maintenance || stateOf(rs) === 'down');
    return this.deps.writeLock.run(async () => {
      const b = this.deps.backend;
      const cur = await readDest(b, cfg.service, sorry);
      if (noneLive && !cur) {
        await this.journaled(HEALTH_ACTOR, 'health.sorry.add', [{ kind: 'destination', service: cfg.service, before: null, after: sorry }], async () => {
          await b.addDestination(cfg.service, sorry);
          const after = await readDest(b, cfg.service, sorry);
          return [{ kind: 'destination', service: cfg.service, before: null, after: after ? destinationSpecOf(after) : null }];
        });
        return { changed: true, note: 'sorry server added' };
      }
      if (!noneLive && cur) {
        const planned: JournalObject[] = [{ kind: 'destination', service: cfg.service, before: destinationSpecOf(cur), after: null }];
        await this.journaled(HEALTH_ACTOR, 'health.sorry.remove', planned, async () => {
          await b.removeDestination(cfg.service, sorry);
          return planned;
        });
        return { changed: true, note: 'sorry server removed' };
      }
      return { changed: false, note: noneLive ? 'sorry server in place' : 'real servers live' };
    });
  }

  /** Maintenance on: weight 0 now (drain). Off: the server gets what its health says. */
  async maintenance(
    cfg: HealthServiceConfig, rs: RealServerHealth, on: boolean, state: HealthState, actor: Actor, stillUp: () => boolean,
  ): Promise<ActionOutcome> {
    this.cancelRamp(cfg, rs.destination);
    if (on) return this.setWeight(cfg, rs, 0, actor, 'health.maintenance.on');
    if (state === 'down') {
      const action = rs.onFailure ?? cfg.onFailure;
      return action === 'remove'
        ? this.remove(cfg, rs.destination, actor, 'health.maintenance.off')
        : this.setWeight(cfg, rs, 0, actor, 'health.maintenance.off');
    }
    return this.up(cfg, rs, stillUp, rs.destination.weight, actor);
  }

  stop(): void {
    for (const t of this.ramps.values()) clearTimeout(t);
    this.ramps.clear();
  }
}
