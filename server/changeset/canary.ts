/**
 * A canary after a change set: for a chosen time, watch the real servers the
 * change brought into service (added, or raised from weight 0) and roll the
 * change set back by itself (an undo of its journal entry, journaled under
 * the actor "canary" with the reason) when one of them goes wrong: its health
 * check turns DOWN, connections to it pile up in SYN_RECV with none
 * established (it answers nothing), or by the end it took no new connection
 * while the others of its service took plenty.
 */
import { z } from 'zod';
import { formatDestination } from '@/lib/ipvs/format';
import { destinationId, serviceId } from '@/lib/ipvs/ids';
import type { DestinationKey, ServiceKey } from '@/lib/ipvs/model';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { PlanOp } from '@/lib/snapshot/plan';
import type { AgentWriteCtx as WriteCtx } from '../api/context';
import { undo } from '../table/ops';

export const canaryOptionsSchema = z.object({
  /** how long to watch */
  seconds: z.number().int().min(5, 'watch at least 5 s').max(900, 'watch at most 900 s (15 min)'),
  /** SYN_RECV entries to one new real server, with none established, that count as broken */
  synRecv: z.number().int().min(1).max(100000).default(3),
}).strict();
export type CanaryOptions = z.input<typeof canaryOptionsSchema>;

export interface CanaryTarget {
  service: ServiceKey;
  destination: DestinationKey;
  label: string;
}

export interface CanaryStatus {
  journalId: number;
  state: 'watching' | 'passed' | 'rolled-back' | 'rollback-failed' | 'stopped';
  startedAt: number;
  until: number;
  targets: string[];
  /** why it rolled back (or tried to), or why it stopped */
  reason: string | null;
  /** the undo's journal entry */
  rollbackJournalId: number | null;
  /** what the last look saw, one line per target */
  last: string[];
}

interface Running {
  status: CanaryStatus;
  timer: NodeJS.Timeout | null;
  stop(why: string): void;
}

const running = new WeakMap<IpvsBackend, Running>();

/** The canary of the last change set applied with one on this director, if any. */
export function canaryStatus(backend: IpvsBackend): CanaryStatus | null {
  return running.get(backend)?.status ?? null;
}

export function stopCanary(backend: IpvsBackend, why: string): CanaryStatus | null {
  const r = running.get(backend);
  if (r && r.status.state === 'watching') r.stop(why);
  return r?.status ?? null;
}

/** The real servers a plan brings into service: added, or raised from weight 0. */
export function canaryTargets(ops: readonly PlanOp[]): CanaryTarget[] {
  const out: CanaryTarget[] = [];
  for (const op of ops) {
    const d = op.kind === 'createDestination' ? op.destination
      : op.kind === 'updateDestination' && op.before.weight === 0 && op.destination.weight > 0 ? op.destination : null;
    if (!d || d.weight === 0) continue;
    out.push({ service: op.service.key, destination: { family: d.family, address: d.address, port: d.port }, label: formatDestination(d) });
  }
  return out;
}

/** Milliseconds between looks; tests shorten it. */
export const CANARY_TICK_MS = { value: 1000 };

export function startCanary(ctx: WriteCtx, journalId: number, plan: { ops: readonly PlanOp[] }, opts: CanaryOptions): CanaryStatus {
  const o = canaryOptionsSchema.parse(opts);
  stopCanary(ctx.backend, `a newer change set (#${journalId}) was applied`);
  const targets = canaryTargets(plan.ops);
  const now = Date.now();
  const status: CanaryStatus = {
    journalId, state: 'watching', startedAt: now, until: now + o.seconds * 1000,
    targets: targets.map((t) => t.label), reason: null, rollbackJournalId: null, last: [],
  };
  const r: Running = {
    status, timer: null,
    stop(why) {
      if (r.timer) clearTimeout(r.timer);
      status.state = 'stopped';
      status.reason = why;
    },
  };
  running.set(ctx.backend, r);
  if (targets.length === 0) {
    status.state = 'passed';
    status.reason = 'no real server was brought into service: nothing to watch';
    return status;
  }
  const base = new Map<string, number>();
  const canaryCtx: WriteCtx = { ...ctx, auth: { ...ctx.auth, actor: 'canary' } };

  const rollback = async (reason: string) => {
    status.reason = reason;
    try {
      const u = await undo(canaryCtx, journalId, { op: 'changeset.canary-rollback', note: `canary: ${reason}` });
      status.state = 'rolled-back';
      status.rollbackJournalId = u.entry.id;
      ctx.log.warn({ journal: journalId, undo: u.entry.id, reason }, 'canary rolled a change set back');
    } catch (e) {
      status.state = 'rollback-failed';
      status.reason = `${reason}; the rollback failed: ${(e as Error)?.message ?? String(e)}`;
      ctx.log.error({ err: e, journal: journalId }, 'canary could not roll a change set back');
    }
  };

  /** New connections each real server of the targets' services has taken, by service|destination. */
  const connCounts = async (): Promise<Map<string, number>> => {
    const m = new Map<string, number>();
    const seen = new Set<string>();
    for (const t of targets) {
      const sid = serviceId(t.service);
      if (seen.has(sid)) continue;
      seen.add(sid);
      const dests = await ctx.backend.listDestinations(t.service).catch(() => []);
      for (const d of dests) m.set(`${sid}|${destinationId(d)}`, d.stats.conns);
    }
    return m;
  };

  const look = async (final: boolean): Promise<string | null> => {
    const health = ctx.health?.list() ?? [];
    const summary = ctx.conns ? (await ctx.conns.summary(500).catch(() => null))?.summary ?? null : null;
    const counts = await connCounts();
    const last: string[] = [];
    for (const t of targets) {
      const did = destinationId(t.destination), sid = serviceId(t.service);
      const row = health.find((h) => h.serviceId === sid && h.destinationId === did);
      const rs = summary?.destinations.find((d) => d.family === t.destination.family && d.address === t.destination.address
        && d.port === t.destination.port);
      const syn = rs?.byState.SYN_RECV ?? 0, est = rs?.active ?? 0;
      const taken = (counts.get(`${sid}|${did}`) ?? 0) - (base.get(`${sid}|${did}`) ?? 0);
      last.push(`${t.label}: health ${row?.state ?? 'unchecked'}, ${syn} SYN_RECV, ${est} established, ${taken} new connection(s)`);
      status.last = last;
      if (row?.state === 'down') return `health check of new real server ${t.label} is DOWN${row.message ? ` (${row.message})` : ''}`;
      if (syn >= o.synRecv && est === 0) return `${syn} connections to new real server ${t.label} are stuck in SYN_RECV and none is established: it does not answer`;
      if (final && taken === 0) {
        let others = 0;
        for (const [k, v] of counts) if (k.startsWith(`${sid}|`) && k !== `${sid}|${did}`) others += v - (base.get(k) ?? 0);
        if (others >= 10) return `no new connection reached new real server ${t.label} while the others of its service took ${others}`;
      }
    }
    return null;
  };

  const tick = async () => {
    r.timer = null;
    if (status.state !== 'watching') return;
    const final = Date.now() >= status.until;
    let bad: string | null = null;
    try {
      bad = await look(final);
    } catch (e) {
      ctx.log.warn({ err: e, journal: journalId }, 'canary look failed');
    }
    if (status.state !== 'watching') return;
    if (bad) return rollback(bad);
    if (final) {
      status.state = 'passed';
      return;
    }
    r.timer = setTimeout(() => void tick(), CANARY_TICK_MS.value);
    r.timer.unref?.();
  };

  void connCounts().then((m) => {
    for (const [k, v] of m) base.set(k, v);
    r.timer = setTimeout(() => void tick(), CANARY_TICK_MS.value);
    r.timer.unref?.();
  });
  return status;
}
