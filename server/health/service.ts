/**
 * The agent's health-check subsystem: the stored config, the scheduler that
 * runs checks, the actions that follow transitions, and the history and
 * events the console reads. One instance per agent.
 */
import { EventEmitter, on } from 'node:events';
import type { Logger } from 'pino';
import { formatDestination, formatServiceKey } from '@/lib/ipvs/format';
import { destinationId, sameDestinationKey, serviceId } from '@/lib/ipvs/ids';
import { destinationSpecOf } from '@/lib/ipvs/config';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { InputError, RefusedError, TooManyError, type InputIssue } from '@/lib/errors';
import { IpvsError } from '@/lib/ipvs/errors';
import type { DestinationKey, ServiceKey } from '@/lib/ipvs/model';
import {
  checkTarget, DEFAULT_CHECKS_DIR, localTargetReason, resolveTiming, type Check, type HealthServiceConfig, type HealthState, type RealServerHealth,
} from '@/lib/schemas/health';
import type { Journal } from '../table/journal';
import type { Mutex } from '../table/mutex';
import type { SlowStarts } from '../table/slow-start';
import { keepFailingServer, releaseKeptServers } from '@/lib/health/quorum';
import { HealthActions, HEALTH_ACTOR, type Actor } from './actions';
import { makeRunCheck, type RunCheck } from './checkers';
import { MiscRunner, privileges, resolveUser } from './checkers/misc';
import { RunnerClient } from './runner/client';
import { listScripts, type ScriptEntry } from './checkers/scripts';
import type { CheckResult } from './checkers/types';
import { RateLimiter } from './rate-limit';
import { HealthScheduler, type TargetSpec, type Transition } from './scheduler';
import { HealthStore, type HistoryEntry } from './store';

export type { RunCheck } from './checkers';

export interface HealthDeps {
  backend: IpvsBackend;
  writeLock: Mutex;
  journal: Journal;
  log: Logger;
  stateDir: string | null;
  poke?: () => void;
  /** the agent's slow starts: a server brought back ramps through them (destinations.slowStarts) */
  slowStarts?: SlowStarts;
  /** injectable for tests */
  runCheck?: RunCheck;
  random?: () => number;
  /** how often to look for a health.json replaced by the CLI (ms; 0 = never) */
  reloadMs?: number;
  /** the folder misc checks take their scripts from (--checks-dir) */
  checksDir?: string;
  /** the user scripts run as (--check-user: a name or uid:gid; default nobody) */
  checkUser?: string;
  /** who must own the checks folder and its scripts (root; tests set their own uid) */
  scriptOwnerUid?: number;
  /** --allow-local-checks: let checks target loopback, link-local and unspecified addresses */
  allowLocalChecks?: boolean;
  /** misc scripts running at once (default 8) */
  maxMiscRuns?: number;
  /**
   * --check-runner: the socket of the separate check runner (director-checks.service); misc checks then
   * run there, as its own user, instead of through setpriv as the agent's
   */
  checkRunner?: string;
  /** util-linux setpriv (default /usr/bin/setpriv) */
  setpriv?: string;
  /** checkNow calls per token per minute (default 20) */
  checkNowPerMinute?: number;
  /** injectable for tests: this process's effective capabilities */
  caps?: bigint;
}

export type DisplayState = HealthState | 'maintenance' | 'unchecked';

export interface HealthRow {
  service: ServiceKey;
  serviceId: string;
  destination: DestinationKey;
  destinationId: string;
  state: DisplayState;
  /** what the checks say, whatever maintenance says */
  health: HealthState | 'unchecked';
  maintenance: boolean;
  since: number | null;
  message: string | null;
  latencyMs: number | null;
  lastCheckedAt: number | null;
  failures: number;
  checks: string[];
  configuredWeight: number;
  /** failing, but kept in service by the service's minimum in service (quorum) */
  kept: boolean;
}

/** A check aimed anywhere but a configured real server of its service. */
export class CheckTargetError extends RefusedError {
  override readonly name = 'CheckTargetError';
}

/** checkNow called too often by one token. */
export class CheckRateError extends TooManyError {
  override readonly name = 'CheckRateError';
}

const localRefusal = (address: string, why: string) =>
  `refusing to check ${address}: it is ${why}, which reaches the director's own services (start the agent with --allow-local-checks to allow it)`;

/**
 * The rule that keeps checks on the operator's own servers: the address is
 * always a real server of the service (only the port may be overridden), and
 * never the director itself unless the agent allows it.
 */
export function assertCheckTarget(cfg: HealthServiceConfig, dest: DestinationKey, check: Check, allowLocal = false): void {
  const rs = cfg.realServers.find((r) => sameDestinationKey(r.destination, dest));
  if (!rs) {
    throw new CheckTargetError(`refusing to check ${formatDestination(dest)}: it is not a real server of ${formatServiceKey(cfg.service)}`);
  }
  const t = checkTarget(rs.destination, check);
  if (t.address !== rs.destination.address || t.family !== rs.destination.family) {
    throw new CheckTargetError(`refusing to check ${t.address}: checks go only to the real server's own address ${rs.destination.address}`);
  }
  const local = allowLocal ? null : localTargetReason(t.address);
  if (local) throw new CheckTargetError(localRefusal(t.address, local));
}

function describeCheck(c: Check): string {
  switch (c.type) {
    case 'http': return `${c.tls ? 'HTTPS' : 'HTTP'} GET ${c.urls.map((u) => u.path).join(', ')}${c.connectPort ? ` :${c.connectPort}` : ''}`;
    case 'tcp': return `TCP connect${c.connectPort ? ` :${c.connectPort}` : ''}`;
    case 'misc': return `script ${c.script}`;
  }
}

export class HealthService {
  private readonly scheduler: HealthScheduler;
  private readonly actions: HealthActions;
  private readonly events = new EventEmitter();
  private readonly runCheck: RunCheck;
  /** per service: actions run one after another, in transition order */
  private chains = new Map<string, Promise<unknown>>();
  /** targets failing but kept in service by their service's minimum in service */
  private kept = new Set<string>();
  /** transitions per target and state entered, since start (/metrics: director_health_transitions_total) */
  private transitionsSeen = new Map<string, { serviceId: string; destinationId: string; to: string; count: number }>();
  private reloadTimer: ReturnType<typeof setInterval> | null = null;
  private readonly log: Logger;
  private readonly allowLocal: boolean;
  private readonly checkNowLimit: RateLimiter;
  readonly misc: MiscRunner;

  private constructor(private readonly deps: HealthDeps, readonly store: HealthStore) {
    this.log = deps.log;
    this.allowLocal = deps.allowLocalChecks ?? false;
    this.checkNowLimit = new RateLimiter(deps.checkNowPerMinute ?? 20, 60_000);
    const priv = privileges(deps.caps);
    const isRoot = process.getuid?.() === 0;
    const runAs = resolveUser(deps.checkUser ?? 'nobody');
    if (runAs.uid === 0) throw new Error('--check-user: scripts must not run as root');
    if (!priv.canSwitchUser && !isRoot && !deps.checkRunner) {
      deps.log.warn({ checkUser: deps.checkUser ?? 'nobody', uid: process.getuid?.() },
        'misc checks will run as the agent\'s own user (it cannot switch users), without capabilities');
    }
    this.misc = new MiscRunner({
      dir: deps.checksDir ?? DEFAULT_CHECKS_DIR,
      ownerUid: deps.scriptOwnerUid ?? 0,
      runAs: priv.canSwitchUser || isRoot ? runAs : null,
      canDropBounding: priv.canDropBounding,
      maxConcurrent: deps.maxMiscRuns ?? 8,
      maxWaiting: 256,
      setpriv: deps.setpriv ?? '/usr/bin/setpriv',
    });
    this.runCheck = deps.runCheck ?? makeRunCheck(deps.checkRunner ? new RunnerClient(deps.checkRunner) : this.misc);
    this.events.setMaxListeners(0);
    this.actions = new HealthActions({
      backend: deps.backend, writeLock: deps.writeLock, journal: deps.journal, log: deps.log,
      ...(deps.poke ? { poke: deps.poke } : {}), ...(deps.slowStarts ? { slowStarts: deps.slowStarts } : {}),
    });
    this.scheduler = new HealthScheduler({
      onTransition: (t) => this.onTransition(t),
      ...(deps.random ? { random: deps.random } : {}),
    });
  }

  static async open(deps: HealthDeps): Promise<HealthService> {
    return new HealthService(deps, await HealthStore.open(deps.stateDir));
  }

  /** Starts checking; maintenance flags from the stored config are re-asserted in the kernel. */
  async start(): Promise<void> {
    for (const cfg of this.store.list()) {
      for (const rs of cfg.realServers) {
        if (!rs.maintenance) continue;
        await this.actions.maintenance(cfg, rs, true, 'unknown', HEALTH_ACTOR, () => false)
          .catch((e: unknown) => this.log.warn({ err: e, service: serviceId(cfg.service) }, 'could not re-assert maintenance'));
      }
    }
    this.reconcile();
    const every = this.deps.reloadMs ?? 2000;
    if (every > 0) {
      this.reloadTimer = setInterval(() => {
        this.store.reloadIfChanged()
          .then((changed) => { if (changed) this.reconcile(); })
          .catch((e: unknown) => this.log.error({ err: e }, 'health config reload failed'));
      }, every);
      this.reloadTimer.unref?.();
    }
  }

  stop(): void {
    if (this.reloadTimer) clearInterval(this.reloadTimer);
    this.reloadTimer = null;
    this.scheduler.stop();
    this.actions.stop();
  }

  private targetId(svc: ServiceKey, d: DestinationKey): string {
    return `${serviceId(svc)} ${destinationId(d)}`;
  }

  private reconcile(): void {
    const specs: TargetSpec[] = [];
    for (const cfg of this.store.list()) {
      for (const rs of cfg.realServers) {
        if (rs.checks.length === 0) continue;
        specs.push({
          id: this.targetId(cfg.service, rs.destination),
          probes: rs.checks.map((check, i) => {
            const timing = resolveTiming(cfg.timing, check);
            return {
              key: `${i} ${JSON.stringify(check)} ${JSON.stringify(timing)}`,
              timing,
              run: (signal: AbortSignal) => {
                // the config may have changed since this probe was built: check against the current one
                const cur = this.store.get(cfg.service);
                if (!cur) return Promise.resolve({ ok: false, message: 'no longer configured', durationMs: 0 });
                try {
                  assertCheckTarget(cur, rs.destination, check, this.allowLocal);
                } catch (e) {
                  // a stored config that breaks the rules (hand-edited, or from before them) is not run, and moves nothing
                  if (e instanceof CheckTargetError) return Promise.resolve({ ok: false, refused: true, message: e.message, durationMs: 0 });
                  throw e;
                }
                return this.runCheck(rs.destination, check, timing, signal);
              },
            };
          }),
        });
      }
    }
    this.scheduler.set(specs);
  }

  private find(svc: ServiceKey, d: DestinationKey): { cfg: HealthServiceConfig; rs: RealServerHealth } | null {
    const cfg = this.store.get(svc);
    const rs = cfg?.realServers.find((r) => sameDestinationKey(r.destination, d));
    return cfg && rs ? { cfg, rs } : null;
  }

  private healthOf(cfg: HealthServiceConfig, rs: RealServerHealth): HealthState | 'unchecked' {
    if (rs.checks.length === 0) return 'unchecked';
    return this.scheduler.status(this.targetId(cfg.service, rs.destination))?.state ?? 'unknown';
  }

  /** Real servers of a service that take traffic on their own merit: passing (or unchecked) and not in maintenance. */
  private passing(cfg: HealthServiceConfig): number {
    return cfg.realServers.filter((rs) => {
      if (rs.maintenance) return false;
      const h = this.healthOf(cfg, rs);
      return h === 'up' || h === 'unchecked';
    }).length;
  }

  /** Takes out the servers the quorum kept in, once enough pass again. */
  private async releaseKept(cfg: HealthServiceConfig): Promise<string[]> {
    const kept = cfg.realServers.filter((rs) => this.kept.has(this.targetId(cfg.service, rs.destination)));
    if (kept.length === 0 || !releaseKeptServers(cfg, this.passing(cfg))) return [];
    const notes: string[] = [];
    for (const rs of kept) {
      this.kept.delete(this.targetId(cfg.service, rs.destination));
      if (this.healthOf(cfg, rs) !== 'down') continue;
      const r = await this.actions.down(cfg, rs);
      notes.push(`${destinationId(rs.destination)} no longer kept: ${r.note}`);
    }
    return notes;
  }

  private serial<T>(svc: ServiceKey, fn: () => Promise<T>): Promise<T> {
    const k = serviceId(svc);
    const run = (this.chains.get(k) ?? Promise.resolve()).then(fn, fn);
    this.chains.set(k, run.catch(() => undefined));
    return run;
  }

  private onTransition(t: Transition): void {
    const cfg = this.store.list().find((c) => t.id.startsWith(`${serviceId(c.service)} `));
    const rs = cfg?.realServers.find((r) => this.targetId(cfg.service, r.destination) === t.id);
    if (!cfg || !rs) return;
    const key = `${t.id} ${t.to}`;
    const seen = this.transitionsSeen.get(key);
    if (seen) seen.count++;
    else this.transitionsSeen.set(key, { serviceId: serviceId(cfg.service), destinationId: destinationId(rs.destination), to: t.to, count: 1 });
    void this.serial(cfg.service, async () => {
      // act on the newest config (a concurrent config.set may have replaced it)
      const f = this.find(cfg.service, rs.destination);
      if (!f) return;
      const stillUp = () => this.healthOf(f.cfg, this.find(cfg.service, rs.destination)?.rs ?? f.rs) === 'up';
      const notes: string[] = [];
      const tid = this.targetId(f.cfg.service, f.rs.destination);
      try {
        if (t.to === 'down') {
          const others = this.passing(f.cfg);
          if (!f.rs.maintenance && keepFailingServer(f.cfg, others)) {
            this.kept.add(tid);
            notes.push(`kept in service: ${others} other real server${others === 1 ? '' : 's'} pass, the minimum in service is ${f.cfg.minInService}`);
          } else {
            notes.push((await this.actions.down(f.cfg, f.rs)).note);
          }
        } else {
          this.kept.delete(tid);
          notes.push((await this.actions.up(f.cfg, f.rs, stillUp, t.weight ?? f.rs.destination.weight)).note);
          notes.push(...await this.releaseKept(f.cfg));
        }
        const s = await this.actions.syncSorry(f.cfg, (x) => {
          if (this.kept.has(this.targetId(f.cfg.service, x.destination))) return 'up';
          const h = this.healthOf(f.cfg, x);
          return h === 'unchecked' ? 'up' : h;
        });
        if (s.changed) notes.push(s.note);
      } catch (e) {
        notes.push(`action failed: ${(e as Error).message}`);
        this.log.error({ err: e, target: t.id }, 'health action failed');
      }
      const entry = await this.store.addHistory({
        at: t.at, service: f.cfg.service,
        destination: { family: f.rs.destination.family, address: f.rs.destination.address, port: f.rs.destination.port },
        from: t.from, to: t.to, message: t.message, durationMs: t.durationMs, action: notes.join('; '),
      });
      this.log.info({ target: t.id, from: t.from, to: t.to, message: t.message, action: entry.action }, 'real server health changed');
      this.events.emit('transition', entry);
    });
  }

  list(service?: ServiceKey): HealthRow[] {
    const rows: HealthRow[] = [];
    for (const cfg of this.store.list()) {
      if (service && serviceId(service) !== serviceId(cfg.service)) continue;
      for (const rs of cfg.realServers) {
        const st = rs.checks.length > 0 ? this.scheduler.status(this.targetId(cfg.service, rs.destination)) : null;
        const health: HealthState | 'unchecked' = rs.checks.length === 0 ? 'unchecked' : st?.state ?? 'unknown';
        const d = rs.destination;
        rows.push({
          service: cfg.service, serviceId: serviceId(cfg.service),
          destination: { family: d.family, address: d.address, port: d.port }, destinationId: destinationId(d),
          state: rs.maintenance ? 'maintenance' : health, health, maintenance: rs.maintenance,
          since: st?.since ?? null, message: st?.lastMessage ?? null, latencyMs: st?.lastDurationMs ?? null,
          lastCheckedAt: st?.lastCheckedAt ?? null, failures: st?.failures ?? 0,
          checks: rs.checks.map(describeCheck), configuredWeight: d.weight,
          kept: this.kept.has(this.targetId(cfg.service, d)),
        });
      }
    }
    return rows;
  }

  /** Health transitions since the agent started, per real server still configured and state entered. */
  transitionCounts(): { serviceId: string; destinationId: string; to: string; count: number }[] {
    const live = new Set(this.store.list().flatMap((c) => c.realServers.map((r) => this.targetId(c.service, r.destination))));
    for (const [k, v] of this.transitionsSeen) if (!live.has(`${v.serviceId} ${v.destinationId}`)) this.transitionsSeen.delete(k);
    return [...this.transitionsSeen.values()];
  }

  history(opts: { limit: number; service?: ServiceKey }): HistoryEntry[] {
    return this.store.historyList(opts);
  }

  getConfig(service?: ServiceKey): HealthServiceConfig[] {
    return service ? (this.store.get(service) ? [this.store.get(service)!] : []) : this.store.list();
  }

  /**
   * Replaces one service's checks. Every real server must be one the kernel
   * has in that service (or one already configured, since a server removed on
   * failure is missing from the kernel); maintenance flags are kept, as only
   * maintenance.set changes them.
   */
  async setConfig(cfg: HealthServiceConfig): Promise<HealthServiceConfig> {
    let live;
    try {
      live = await this.deps.backend.listDestinations(cfg.service);
      await this.deps.backend.getService(cfg.service);
    } catch (e) {
      if (e instanceof IpvsError && e.code === 'service_not_found') {
        throw new IpvsError('service_not_found', `virtual service ${formatServiceKey(cfg.service)} does not exist`);
      }
      throw e;
    }
    const prev = this.store.get(cfg.service);
    const issues: InputIssue[] = [];
    const realServers = cfg.realServers.map((rs, i) => {
      const known = live.some((d) => sameDestinationKey(d, rs.destination))
        || prev?.realServers.some((p) => sameDestinationKey(p.destination, rs.destination));
      if (!known) {
        issues.push({
          code: 'custom', path: ['config', 'realServers', i, 'destination', 'address'],
          message: `${formatDestination(rs.destination)} is not a real server of ${formatServiceKey(cfg.service)}; checks only target its real servers`,
        });
      }
      const local = this.allowLocal || rs.checks.length === 0 ? null : localTargetReason(rs.destination.address);
      if (local) {
        issues.push({ code: 'custom', path: ['config', 'realServers', i, 'destination', 'address'], message: localRefusal(rs.destination.address, local) });
      }
      const old = prev?.realServers.find((p) => sameDestinationKey(p.destination, rs.destination));
      return { ...rs, maintenance: old?.maintenance ?? false };
    });
    if (issues.length > 0) {
      throw new InputError(issues);
    }
    const next = { ...cfg, realServers };
    await this.store.put(cfg.service, next);
    this.reconcile();
    return next;
  }

  async removeConfig(service: ServiceKey): Promise<void> {
    await this.store.put(service, null);
    this.reconcile();
  }

  /** The scripts misc checks may name, each with what would stop it from running. */
  async scripts(): Promise<{ dir: string; scripts: ScriptEntry[]; problem?: string; runsAs: string }> {
    const r = this.misc.opts.runAs;
    const runsAs = this.deps.checkRunner ? `the check runner's user (through ${this.deps.checkRunner})` : r ? `uid ${r.uid}, gid ${r.gid}` : `the agent's own user (uid ${process.getuid?.() ?? '?'}): it cannot switch users`;
    return { ...(await listScripts(this.misc.opts)), runsAs };
  }

  /**
   * Runs checks once and reports; the table is never touched. `caller` (the
   * token's name) is rate-limited: checkNow must not become a scanner.
   */
  async checkNow(service: ServiceKey, dest: DestinationKey, adHoc?: Check, signal?: AbortSignal, caller?: string):
  Promise<{ results: (CheckResult & { check: string })[]; ok: boolean }> {
    if (caller !== undefined && !this.checkNowLimit.take(caller)) {
      throw new CheckRateError(`too many checkNow calls: at most ${this.checkNowLimit.limit} a minute per token; try again in ${Math.ceil(this.checkNowLimit.retryAfterMs(caller) / 1000)} s`);
    }
    let cfg = this.store.get(service);
    if (!cfg?.realServers.some((r) => sameDestinationKey(r.destination, dest))) {
      // not configured yet (the form's dry run): allowed only for a real server the kernel has in this service
      const live = await this.deps.backend.listDestinations(service);
      const d = live.find((x) => sameDestinationKey(x, dest));
      if (!d) throw new CheckTargetError(`refusing to check ${formatDestination(dest)}: it is not a real server of ${formatServiceKey(service)}`);
      cfg = { service, timing: cfg?.timing ?? {}, onFailure: 'quiesce', rampUpSec: 0, sorryServer: null, realServers: [{ destination: destinationSpecOf(d), checks: [], maintenance: false }] };
    }
    const rs = cfg.realServers.find((r) => sameDestinationKey(r.destination, dest))!;
    const checks = adHoc ? [adHoc] : rs.checks;
    if (checks.length === 0) throw new CheckTargetError(`no checks are configured for ${formatDestination(dest)} in ${formatServiceKey(service)}`);
    const results: (CheckResult & { check: string })[] = [];
    for (const c of checks) {
      assertCheckTarget(cfg, dest, c, this.allowLocal);
    }
    for (const c of checks) {
      const r = await this.runCheck(rs.destination, c, resolveTiming(cfg.timing, c), signal);
      results.push({ ...r, check: describeCheck(c) });
    }
    return { results, ok: results.every((r) => r.ok) };
  }

  async setMaintenance(service: ServiceKey, dest: DestinationKey, on: boolean, actor: Actor): Promise<HistoryEntry> {
    return this.serial(service, async () => {
      let cfg = this.store.get(service);
      if (!cfg?.realServers.some((r) => sameDestinationKey(r.destination, dest))) {
        const live = await this.deps.backend.listDestinations(service);
        const d = live.find((x) => sameDestinationKey(x, dest));
        if (!d) throw new IpvsError('destination_not_found', `real server ${formatDestination(dest)} is not in virtual service ${formatServiceKey(service)}`);
        const base = cfg ?? { service, timing: {}, onFailure: 'quiesce' as const, rampUpSec: 0, sorryServer: null, realServers: [] };
        cfg = { ...base, realServers: [...base.realServers, { destination: destinationSpecOf(d), checks: [], maintenance: false }] };
      }
      const realServers = cfg.realServers.map((r) => (sameDestinationKey(r.destination, dest) ? { ...r, maintenance: on } : r));
      const next = { ...cfg, realServers };
      const rs = realServers.find((r) => sameDestinationKey(r.destination, dest))!;
      const was = cfg.realServers.find((r) => sameDestinationKey(r.destination, dest))!;
      await this.store.put(service, next);
      this.reconcile();
      const health = this.healthOf(next, rs);
      const h: HealthState = health === 'unchecked' ? 'up' : health;
      const r = await this.actions.maintenance(next, rs, on, h, actor, () => this.healthOf(next, rs) !== 'down');
      const s = await this.actions.syncSorry(next, (x) => {
        const hx = this.healthOf(next, x);
        return hx === 'unchecked' ? 'up' : hx;
      });
      const entry = await this.store.addHistory({
        at: Date.now(), service, destination: { family: rs.destination.family, address: rs.destination.address, port: rs.destination.port },
        from: was.maintenance ? 'maintenance' : h, to: on ? 'maintenance' : h,
        message: `maintenance ${on ? 'on' : 'off'} by ${actor.tokenName}`, durationMs: null,
        action: [r.note, ...(s.changed ? [s.note] : [])].join('; '),
      });
      this.events.emit('transition', entry);
      return entry;
    });
  }

  /** Transitions after `lastEventId` (replayed from history), then live ones, until the signal aborts. */
  async *transitions(signal: AbortSignal | undefined, lastEventId?: number): AsyncGenerator<HistoryEntry> {
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    // subscribe before replaying so nothing falls between the two
    const live = on(this.events, 'transition', { signal: ac.signal });
    try {
      let last = lastEventId ?? Number.MAX_SAFE_INTEGER;
      if (lastEventId !== undefined) {
        const missed = this.store.historyList({ limit: 2000, after: lastEventId }).reverse();
        for (const e of missed) {
          yield e;
          last = e.id;
        }
      } else {
        last = 0;
      }
      for await (const [e] of live) {
        const entry = e as HistoryEntry;
        if (lastEventId !== undefined && entry.id <= last) continue;
        yield entry;
      }
    } catch (e) {
      if ((e as Error).name !== 'AbortError') throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      ac.abort();
    }
  }
}
