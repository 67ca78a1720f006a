/**
 * Snapshot export / plan / restore for the API, on the snapshot modules
 * (lib/snapshot, server/snapshot/apply.ts). Names in ipvsadm text are not
 * resolved by the agent (it makes no DNS queries): give numeric snapshots
 * (`ipvsadm -Sn`).
 */
import os from 'node:os';
import { InputError } from '@/lib/errors';
import { IpvsError } from '@/lib/ipvs/errors';
import type { ServiceEntry, ServiceRules } from '@/lib/ipvs/model';
import { formatServiceKey } from '@/lib/ipvs/format';
import { serviceId } from '@/lib/ipvs/ids';
import { formatSnapshot } from '@/lib/snapshot/format';
import { makeSnapshot, readSnapshotJson, stringifySnapshot, toRules } from '@/lib/snapshot/json';
import { parseSnapshot } from '@/lib/snapshot/parse';
import { describeOp, planRestore, renderPlan, type PlanOp } from '@/lib/snapshot/plan';
import { numericOnly } from '@/lib/snapshot/resolve';
import { RestoreFailedError, restoreTable, SnapshotInvalidError } from '../snapshot/apply';
import type { Identity } from '@/lib/auth/identity';
import type { AgentContext } from '../api/context';
import type { PendingChange } from './journal';
import type { JournalObject } from '@/lib/journal/types';
import { snapshotGate } from '../api/heavy';
import { readService } from './ops';
import { parseSnapshotText, SnapshotParseError } from '../snapshot/parse-off-thread';
import { applyKeepalivedChecks, exportKeepalived, parseKeepalivedUpload, type KeepalivedExtras, type ParsedKeepalived } from './keepalived-import';

export type SnapshotFormat = 'ipvsadm' | 'json' | 'keepalived';

export async function exportSnapshot(ctx: AgentContext, format: SnapshotFormat, opts: { thresholds?: boolean } = {}): Promise<{ format: SnapshotFormat; text: string }> {
  if (format === 'keepalived') {
    const text = await snapshotGate.run(() => exportKeepalived(ctx, `keepalived.conf exported by Director from ${os.hostname()} at ${new Date().toISOString()}`));
    return { format, text };
  }
  const table = await ctx.backend.dump();
  if (format === 'ipvsadm') {
    return snapshotGate.run(() => ({ format, text: formatSnapshot(toRules(table), { thresholds: opts.thresholds ?? true }) }));
  }
  const info = await ctx.backend.info();
  return snapshotGate.run(() => ({ format, text: stringifySnapshot(makeSnapshot(table, { host: os.hostname(), ipvsVersion: info.version })) }));
}

interface Desired {
  services: ServiceRules[];
  lines?: { service: number; destinations: number[] }[];
  /** a keepalived.conf: its checks and what the console shows beside the plan */
  keepalived?: ParsedKeepalived;
}

/** Parse errors become field issues on `text`, one per line, so the console shows them against the editor. */
async function parseDesired(ctx: Pick<AgentContext, 'health'>, format: SnapshotFormat, text: string): Promise<Desired> {
  if (format === 'keepalived') {
    const k = parseKeepalivedUpload(ctx, text);
    return { services: k.services, keepalived: k };
  }
  // large texts parse on a worker thread: the event loop stays free meanwhile
  let parsed;
  try {
    parsed = await parseSnapshotText({ format, text });
  } catch (e) {
    if (e instanceof SnapshotParseError) throw new InputError([{ code: 'custom', path: ['text'], message: e.message }]);
    throw e;
  }
  if (parsed.format === 'json') {
    const r = parsed.result;
    if (!r.ok) {
      throw new InputError(r.errors.map((e) => ({ code: 'custom', path: ['text'], message: e.path ? `${e.path}: ${e.message}` : e.message })));
    }
    return { services: r.snapshot.services };
  }
  const p = parsed.result;
  if (p.errors.length) {
    throw new InputError(p.errors.map((e) => ({
      code: 'custom', path: ['text'], message: `line ${e.line}${e.column !== undefined ? `:${e.column}` : ''}: ${e.message}`,
    })));
  }
  return { services: p.services, lines: p.lines };
}

/**
 * A plan comes back three ways (operations, steps, readable text), about 3 KB of
 * the agent's memory per operation while it is built and sent: 110,000 operations
 * took it from 118 to 473 MB. Past this many, a plan is refused.
 */
export const MAX_PLAN_OPS = 25_000;

export interface SnapshotPlan {
  ops: PlanOp[];
  /** each operation in ipvsadm syntax, in the order they would run */
  steps: string[];
  /** readable diff */
  text: string;
  /** a keepalived.conf's checks, notes and VRRP preview */
  keepalived?: KeepalivedExtras;
}

export async function planSnapshot(ctx: AgentContext, format: SnapshotFormat, text: string, prune: boolean): Promise<SnapshotPlan> {
  const current = await ctx.backend.dump();
  return snapshotGate.run(async () => {
    const desired = await parseDesired(ctx, format, text);
    const ops = planRestore(current, desired.services, {
      mode: prune ? 'replace' : 'merge', ...(desired.lines ? { lines: desired.lines } : {}),
    });
    if (ops.length > MAX_PLAN_OPS) {
      throw new InputError([{ code: 'custom', path: ['text'], message:
        `the plan has ${ops.length} operations; the agent shows at most ${MAX_PLAN_OPS} at once (restore in parts, or with 'director restore' on the director)` }]);
    }
    return { ops, steps: ops.map(describeOp), text: renderPlan(ops), ...(desired.keepalived ? { keepalived: desired.keepalived.extras } : {}) };
  });
}

/** Where a restore stands: operations done of total; `failed` means it was rolled back. */
export interface RestoreProgress {
  done: number;
  total: number;
  state: 'waiting' | 'applying' | 'done' | 'failed';
}

interface Tracked {
  last: RestoreProgress;
  wake: Array<() => void>;
  expiry: NodeJS.Timeout;
}

/**
 * Restores in flight, by an id the client picks, so a subscription can follow
 * one while its mutation runs. The subscription may arrive first; an entry is
 * forgotten a minute after its restore ends (or ten minutes after nothing came).
 */
const restores = new Map<string, Tracked>();

function tracked(id: string): Tracked {
  let t = restores.get(id);
  if (!t) {
    t = { last: { done: 0, total: 0, state: 'waiting' }, wake: [], expiry: setTimeout(() => restores.delete(id), 600_000).unref() };
    restores.set(id, t);
  }
  return t;
}

/** Progress of restore (or change set) `id`, for followRestore's subscribers. */
export function report(id: string | undefined, p: RestoreProgress): void {
  if (!id) return;
  const t = tracked(id);
  t.last = p;
  if (p.state === 'done' || p.state === 'failed') {
    clearTimeout(t.expiry);
    t.expiry = setTimeout(() => restores.delete(id), 60_000).unref();
  }
  for (const w of t.wake.splice(0)) w();
}

/**
 * Progress of restore `id` until it ends. Updates that land while the consumer
 * is busy collapse into the newest, so a fast restore does not flood the socket.
 */
export async function* followRestore(id: string, signal?: AbortSignal): AsyncGenerator<RestoreProgress> {
  const t = tracked(id);
  let sent: RestoreProgress | null = null;
  while (!signal?.aborted) {
    const p = t.last;
    if (p !== sent) {
      sent = p;
      yield p;
      if (p.state === 'done' || p.state === 'failed') return;
    }
    if (t.last === sent) {
      await new Promise<void>((resolve) => {
        const done = () => { signal?.removeEventListener('abort', done); resolve(); };
        t.wake.push(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }
}

export async function restoreSnapshot(
  ctx: AgentContext & { auth: Identity }, format: SnapshotFormat, text: string, prune: boolean, progressId?: string,
): Promise<{ applied: number; steps: string[]; journalId: number | null; checks?: number }> {
  try {
    const r = await restoreLocked(ctx, format, text, prune, progressId);
    report(progressId, { done: r.applied, total: r.applied, state: 'done' });
    return r;
  } catch (e) {
    const last = progressId ? tracked(progressId).last : null;
    report(progressId, { done: last?.done ?? 0, total: last?.total ?? 0, state: 'failed' });
    throw e;
  }
}

/** Stable JSON (sorted keys), so objects read back different ways compare equal. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : x));
}

/** Each touched service whole, before and as it is now, so undo can put every one back as it was. */
export async function touchedObjects(
  ctx: Pick<AgentContext, 'backend'>, ops: readonly PlanOp[], before: readonly ServiceEntry[], onlyChanged: boolean,
): Promise<JournalObject[]> {
  const touched = new Map(ops.map((op) => [serviceId(op.service.key), op.service.key]));
  const beforeById = new Map(toRules(before).map((s) => [serviceId(s.key), s]));
  const objects: JournalObject[] = [];
  for (const [id, key] of touched) {
    const was = beforeById.get(id) ?? null;
    const now = await readService(ctx.backend, key);
    if (onlyChanged && canonical(was) === canonical(now)) continue;
    objects.push({ kind: 'service', key, before: was, after: now });
  }
  return objects;
}

async function restoreLocked(
  ctx: AgentContext & { auth: Identity }, format: SnapshotFormat, text: string, prune: boolean, progressId: string | undefined,
): Promise<{ applied: number; steps: string[]; journalId: number | null; checks?: number }> {
  const desired = await snapshotGate.run(() => parseDesired(ctx, format, text));
  return ctx.writeLock.run(async () => {
    let result;
    let pending: PendingChange | null = null;
    let plan: { ops: readonly PlanOp[]; before: readonly ServiceEntry[] } | null = null;
    try {
      result = await restoreTable(ctx.backend, desired.services, {
        mode: prune ? 'replace' : 'merge', ...(desired.lines ? { lines: desired.lines } : {}),
        ...(progressId ? { onProgress: (done: number, total: number) => report(progressId, { done, total, state: 'applying' }) } : {}),
        // write-ahead: the restore is on disk before the first operation is sent
        onPlanned: async (ops, before) => {
          plan = { ops, before };
          const services = new Set(ops.map((op) => serviceId(op.service.key))).size;
          pending = await ctx.journal.begin({
            role: ctx.auth.role, tokenName: ctx.auth.tokenName, ...(ctx.auth.actor !== undefined ? { actor: ctx.auth.actor } : {}),
            remote: ctx.remote, op: 'snapshot.restore',
            summary: `${ops.length} operation(s) on ${services} service(s)`,
          });
        },
      });
    } catch (e) {
      if (e instanceof SnapshotInvalidError) {
        throw new InputError(e.issues.map((i) => ({ code: 'custom', path: ['text'], message: i.path ? `${i.path}: ${i.message}` : i.message })));
      }
      const p = pending as PendingChange | null;
      const planned = plan as { ops: readonly PlanOp[]; before: readonly ServiceEntry[] } | null;
      let remains: JournalObject[] = [];
      if (p && planned) {
        // a rollback that failed leaves changes: they are journaled, so undo can revert them
        try {
          remains = await touchedObjects(ctx, planned.ops, planned.before, true);
        } catch (re) {
          ctx.log.error({ err: re, journal: p.id }, 'cannot read what a failed restore left');
        }
        await p.failed((e as Error)?.message ?? String(e), remains);
        if (remains.length > 0) ctx.hub.poke(remains.flatMap((o) => (o.kind === 'service' ? [o.key] : [])));
      }
      const left = remains.length > 0 && p
        ? `; these changes remain and are journal entry #${p.id} (undo reverts them): ${describeRemains(remains)}`
        : '';
      if (e instanceof RestoreFailedError) throw new IpvsError(e.cause.code, e.message + left, e.cause.errno, { cause: e });
      throw e;
    }
    // the checks follow the table (they must name real servers the kernel has)
    const checks = desired.keepalived ? await applyKeepalivedChecks(ctx, desired.keepalived) : 0;
    if (result.applied === 0 || !pending) return { applied: 0, steps: [], journalId: null, ...(desired.keepalived ? { checks } : {}) };
    const objects = await touchedObjects(ctx, result.ops, result.before, false);
    const entry = await (pending as PendingChange).done(objects);
    ctx.log.info({ journal: entry.id, applied: result.applied, by: ctx.auth.tokenName }, 'snapshot restored');
    ctx.hub.poke(objects.flatMap((o) => (o.kind === 'service' ? [o.key] : [])));
    return { applied: result.applied, steps: result.ops.map(describeOp), journalId: entry.id, ...(desired.keepalived ? { checks } : {}) };
  });
}

function describeRemains(objects: readonly JournalObject[]): string {
  const words = objects.flatMap((o) => {
    if (o.kind !== 'service') return [];
    const what = !o.before ? 'added' : !o.after ? 'removed' : 'changed';
    return [`${what} service ${formatServiceKey(o.key)}`];
  });
  return words.length > 5 ? `${words.slice(0, 5).join(', ')} and ${words.length - 5} more` : words.join(', ');
}
