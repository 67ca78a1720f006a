/**
 * What a health transition does to the kernel's table, keepalived's way:
 * a failed server is quiesced (weight 0, existing connections continue;
 * inhibit_on_failure) or removed; a recovered one gets its configured weight
 * back, at once or through a slow start (the same ramps operators start, so
 * it shows, journals and stops like theirs); a sorry server stands in while every real server
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
import { SlowStarts } from '../table/slow-start';

export interface Actor {
  role: 'viewer' | 'operator';
  tokenName: string;
  /** the console user, when the console named one */
  actor?: string;
  remote: string;
}

/** The checker itself, in the journal. */
export const HEALTH_ACTOR: Actor = { role: 'operator', tokenName: 'health-check', remote: 'agent' };

/** Who a slow start after recovery is started by, in destinations.slowStarts. */
export const HEALTH_RAMP_BY = 'health check';

export interface ActionDeps {
  backend: IpvsBackend;
  writeLock: Mutex;
  journal: Journal;
  /** tells live views the table changed */
  poke?: () => void;
  log: Logger;
  /** the agent's slow starts (destinations.slowStarts); without them, ramps of its own */
  slowStarts?: SlowStarts;
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
  private readonly slowStarts: SlowStarts;
  private readonly ownSlowStarts: boolean;
  /** ramps this started, by "<service> <dest>": stopped with it */
  private readonly ramps = new Map<string, { service: ServiceKey; destination: DestinationSpec }>();

  constructor(private readonly deps: ActionDeps) {
    this.ownSlowStarts = !deps.slowStarts;
    this.slowStarts = deps.slowStarts ?? new SlowStarts();
  }

  /**
   * One kernel write, journaled write-ahead like every other: `planned` is
   * recorded (fsynced) before `write` runs, which returns what it did. If the
   * journal cannot be written, the kernel is not touched.
   */
  private async journaled(actor: Actor, op: string, planned: JournalObject[], write: () => Promise<JournalObject[]>): Promise<void> {
    const pending = await this.deps.journal.begin({
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

  /** Any slow start of this server ends where it stands (a health action overrides it, whoever started it). */
  private cancelRamp(cfg: HealthServiceConfig, d: DestinationSpec): void {
    this.ramps.delete(this.rampKey(cfg, d));
    this.slowStarts.stop(cfg.service, d);
  }

  /**
   * Sets one real server's weight (adding it if it is missing). Under the
   * write lock; `weight` may depend on what the kernel has.
   */
  private async setWeight(
    cfg: HealthServiceConfig, rs: RealServerHealth, weight: number | ((before: DestinationState | null) => number), actor: Actor, op: string,
  ): Promise<ActionOutcome> {
    return this.deps.writeLock.run(async () => {
      const b = this.deps.backend;
      const before = await readDest(b, cfg.service, rs.destination);
      const w = typeof weight === 'number' ? weight : weight(before);
      if (before && before.weight === w) return { changed: false, note: `weight already ${w}` };
      const was = before ? destinationSpecOf(before) : null;
      const next = before ? { ...destinationSpecOf(before), weight: w } : { ...rs.destination, weight: w };
      await this.journaled(actor, op, [{ kind: 'destination', service: cfg.service, before: was, after: next }], async () => {
        if (before) await b.updateDestination(cfg.service, next);
        else await b.addDestination(cfg.service, next);
        const after = await readDest(b, cfg.service, rs.destination);
        return [{ kind: 'destination', service: cfg.service, before: was, after: after ? destinationSpecOf(after) : null }];
      });
      return { changed: true, note: before ? `weight ${before.weight} -> ${w}` : `re-added with weight ${w}` };
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
   * Restores the configured weight (or the misc_dynamic weight). With a
   * ramp-up time, a server brought back (weight 0 or missing) goes in at
   * weight 1 and climbs through a slow start; `stillUp` is asked before each
   * step so the ramp stops when the server fails again or goes into
   * maintenance. A server already taking traffic (the agent just started) is
   * not pulled down to 1.
   */
  async up(
    cfg: HealthServiceConfig, rs: RealServerHealth, stillUp: () => boolean, weight = rs.destination.weight,
    actor: Actor = HEALTH_ACTOR,
  ): Promise<ActionOutcome> {
    this.cancelRamp(cfg, rs.destination);
    if (rs.maintenance) return { changed: false, note: 'in maintenance: a passing check does not end it' };
    if (cfg.rampUpSec <= 0 || weight <= 1) return this.setWeight(cfg, rs, weight, actor, 'health.up');
    let out = false;
    const first = await this.setWeight(cfg, rs, (before) => ((out = !before || before.weight === 0) ? 1 : weight), actor, 'health.up');
    if (!out) return first;
    const key = this.rampKey(cfg, rs.destination);
    this.ramps.set(key, { service: cfg.service, destination: rs.destination });
    this.slowStarts.start(
      { backend: this.deps.backend, journal: this.deps.journal, writeLock: this.deps.writeLock, log: this.deps.log, hub: { poke: () => this.deps.poke?.() } },
      cfg.service, rs.destination, weight, cfg.rampUpSec, HEALTH_RAMP_BY,
      { while: () => this.ramps.has(key) && stillUp() && !rs.maintenance },
    );
    return { changed: first.changed, note: `slow start to ${weight} over ${cfg.rampUpSec} s` };
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

  /** Ends the slow starts this started (each where it stands). */
  stop(): void {
    if (this.ownSlowStarts) this.slowStarts.close();
    else for (const r of this.ramps.values()) this.slowStarts.stop(r.service, r.destination);
    this.ramps.clear();
  }
}
