/**
 * Change sets on the agent: stage form edits in the director's draft, show
 * the draft's diff against the live table and the verdict on the table as it
 * would be, and apply it all or nothing (server/snapshot/apply.ts's applyPlan:
 * a kernel refusal rolls back what was applied) as one journal entry, so one
 * undo reverts it. A flagged draft applies only with `acknowledge`.
 */
import { readFile } from 'node:fs/promises';
import { ConflictError, InputError, PreconditionError } from '@/lib/errors';
import { IpvsError } from '@/lib/ipvs/errors';
import { applyEdits, changeEditSchema, type ChangeEdit } from '@/lib/changeset/edits';
import { healthKey, judgeChange, type RealServerHealth, type Verdict, type VerdictContext } from '@/lib/changeset/verdict';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { serviceId } from '@/lib/ipvs/ids';
import type { ServiceEntry, ServiceRules } from '@/lib/ipvs/model';
import type { JournalObject } from '@/lib/journal/types';
import { toRules } from '@/lib/snapshot/json';
import { describeOp, planRestore, renderPlan, type PlanOp } from '@/lib/snapshot/plan';
import type { AgentContext } from '../api/context';
import { readNetwork } from '../doctor/collect';
import { applyPlan, RestoreFailedError } from '../snapshot/apply';
import { report, touchedObjects } from '../table/snapshot-ops';
import type { AgentWriteCtx as WriteCtx } from '../api/context';
import { DraftStore, type Draft } from './store';
import { startCanary, type CanaryOptions } from './canary';

const stores = new WeakMap<IpvsBackend, DraftStore>();

/** The agent's draft (kept in its state folder: `drafts`), or one in memory per kernel behind `backend` (tests). */
export function draftOf(ctx: { backend: IpvsBackend; drafts?: DraftStore | null | undefined }): DraftStore {
  if (ctx.drafts) return ctx.drafts;
  let s = stores.get(ctx.backend);
  if (!s) stores.set(ctx.backend, (s = new DraftStore()));
  return s;
}

function who(ctx: WriteCtx): string {
  return ctx.auth.actor ?? ctx.auth.tokenName;
}

/** Stage one edit: checked now against the live table with the draft's other edits, so a draft that cannot apply is refused when built. */
export async function stage(ctx: WriteCtx, edit: unknown) {
  const r = changeEditSchema.safeParse(edit);
  if (!r.success) throw new InputError(r.error.issues.map((i) => ({ code: i.code, message: i.message, path: ['edit', ...i.path] })));
  const live = toRules(await ctx.backend.dump());
  const staged = await draftOf(ctx).stage(r.data, who(ctx), (edits) => { applyEdits(live, edits); });
  return { staged, rev: draftOf(ctx).rev };
}

export async function unstage(ctx: WriteCtx, id: number) {
  const live = toRules(await ctx.backend.dump());
  await draftOf(ctx).unstage(id, (edits) => { applyEdits(live, edits); });
  return { rev: draftOf(ctx).rev };
}

export async function discard(ctx: WriteCtx) {
  await draftOf(ctx).clear();
  return { rev: draftOf(ctx).rev };
}

async function sysctl(name: string): Promise<number | null> {
  try {
    const n = Number((await readFile(`/proc/sys/net/ipv4/vs/${name}`, 'utf8')).trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** What the verdict's rules read besides the table; each part that cannot be read stays unknown (its rule silent). */
export async function verdictContext(ctx: AgentContext, others: VerdictContext['others'] = null): Promise<VerdictContext> {
  const [net, sloppyTcp, expireQuiescentTemplate, daemons] = await Promise.all([
    readNetwork().catch(() => null), sysctl('sloppy_tcp'), sysctl('expire_quiescent_template'),
    ctx.backend.listDaemons().then((d) => d.length, () => null),
  ]);
  // the LANs: a VIP on lo (/32) or loopback is not a link real servers sit on
  const lans = net?.interfaces.flatMap((i) => i.addresses).filter((a) => a.prefix < 32 && !a.address.startsWith('127.')) ?? null;
  const health: Record<string, RealServerHealth> = {};
  for (const row of ctx.health?.list() ?? []) health[healthKey(row.service, row.destination)] = row.state;
  return { lans: lans && lans.length ? lans : null, sloppyTcp, expireQuiescentTemplate, syncDaemons: daemons, others, health };
}

export interface DraftPreview extends Draft {
  /** kernel operations in the order apply sends them */
  steps: string[];
  /** readable diff against the live table (+ added, - removed, ~ changed) */
  diff: string;
  verdict: Verdict;
  /** the draft no longer fits the live table (someone changed it since): why, and nothing can be applied */
  problem: string | null;
}

interface Planned {
  before: ServiceEntry[];
  desired: ServiceRules[];
  ops: PlanOp[];
}

function plan(before: ServiceEntry[], edits: readonly ChangeEdit[]): Planned {
  const live = toRules(before);
  const desired = applyEdits(live, edits);
  return { before, desired, ops: planRestore(live, desired, { mode: 'replace' }) };
}

export async function preview(ctx: AgentContext, others: VerdictContext['others'] = null): Promise<DraftPreview> {
  const draft = draftOf(ctx).get();
  // every console page polls the draft for its banner: an empty one costs no table read
  if (draft.edits.length === 0) return { ...draft, steps: [], diff: '', verdict: { findings: [], flagged: false }, problem: null };
  const before = await ctx.backend.dump();
  let p: Planned;
  try {
    p = plan(before, draft.edits.map((e) => e.edit));
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return { ...draft, steps: [], diff: '', verdict: { findings: [], flagged: false }, problem: e.message };
  }
  const verdict = judgeChange(toRules(before), p.desired, await verdictContext(ctx, others));
  return { ...draft, steps: p.ops.map(describeOp), diff: renderPlan(p.ops), verdict, problem: null };
}

export interface ApplyInput {
  /** the draft revision the operator saw */
  rev: number;
  /** apply although the verdict flags the draft */
  acknowledge: boolean;
  progressId?: string;
  canary?: CanaryOptions;
  others?: VerdictContext['others'];
}

/** The services a plan touches, before and as planned: the write-ahead record. */
function plannedObjects(p: Planned): JournalObject[] {
  const liveById = new Map(toRules(p.before).map((s) => [serviceId(s.key), s]));
  const desiredById = new Map(p.desired.map((s) => [serviceId(s.key), s]));
  const ids = new Map(p.ops.map((op) => [serviceId(op.service.key), op.service.key]));
  return [...ids].map(([id, key]) => ({ kind: 'service', key, before: liveById.get(id) ?? null, after: desiredById.get(id) ?? null }));
}

export async function applyDraft(ctx: WriteCtx, input: ApplyInput) {
  try {
    const r = await applyLocked(ctx, input);
    report(input.progressId, { done: r.applied, total: r.applied, state: 'done' });
    return r;
  } catch (e) {
    report(input.progressId, { done: 0, total: 0, state: 'failed' });
    throw e;
  }
}

async function applyLocked(ctx: WriteCtx, input: ApplyInput) {
  const store = draftOf(ctx);
  return ctx.writeLock.run(async () => {
    const draft = store.get();
    if (draft.rev !== input.rev) {
      throw new ConflictError(`the draft changed since you saw it (revision ${input.rev}, now ${draft.rev}): review it again before applying`);
    }
    if (draft.edits.length === 0) throw new PreconditionError('the draft is empty: stage a change first');
    const before = await ctx.backend.dump();
    const p = plan(before, draft.edits.map((e) => e.edit));
    if (p.ops.length === 0) throw new PreconditionError('the draft changes nothing: the live table already is as it would leave it');
    const verdict = judgeChange(toRules(before), p.desired, await verdictContext(ctx, input.others ?? null));
    if (verdict.flagged && !input.acknowledge) {
      throw new PreconditionError(`the verdict flags this change set (${verdict.findings.filter((f) => f.severity !== 'info')
        .map((f) => `${f.severity}: ${f.title}`).join('; ')}); apply it with acknowledge to apply it anyway`);
    }
    const note = `change set of ${draft.edits.length} edit(s): ${draft.edits.map((e) => e.text).join('; ')}`.slice(0, 2000);
    const pending = await ctx.journal.begin({
      role: ctx.auth.role, tokenName: ctx.auth.tokenName, ...(ctx.auth.actor !== undefined ? { actor: ctx.auth.actor } : {}),
      remote: ctx.remote, op: 'changeset.apply', note,
    }, plannedObjects(p));
    let applied: number;
    try {
      applied = await applyPlan(ctx.backend, p.ops,
        input.progressId ? (done, total) => report(input.progressId, { done, total, state: 'applying' }) : undefined,
        // one at a time: the rollback then knows exactly what went through
        { window: 1, before });
    } catch (e) {
      let remains: JournalObject[] = [];
      try {
        remains = await touchedObjects(ctx, p.ops, before, true);
      } catch (re) {
        ctx.log.error({ err: re, journal: pending.id }, 'cannot read what a failed change set left');
      }
      await pending.failed((e as Error)?.message ?? String(e), remains);
      ctx.hub.poke(p.ops.map((op) => op.service.key));
      if (e instanceof RestoreFailedError) {
        const left = remains.length > 0 ? `; some changes remain and are journal entry #${pending.id} (undo reverts them)` : '';
        throw new IpvsError(e.cause.code, `change set not applied: ${e.message}${left}`, e.cause.errno, { cause: e });
      }
      throw e;
    }
    const objects = await touchedObjects(ctx, p.ops, before, false);
    const entry = await pending.done(objects);
    // applied: the draft is done with even if its file cannot be written now
    await store.clear({ applied: true }).catch((err: unknown) => ctx.log.error({ err }, 'change set applied, but the emptied draft could not be written'));
    ctx.log.info({ journal: entry.id, applied, by: ctx.auth.tokenName, flagged: verdict.flagged }, 'change set applied');
    ctx.hub.poke(p.ops.map((op) => op.service.key));
    const canary = input.canary ? startCanary(ctx, entry.id, p, input.canary) : null;
    return { applied, steps: p.ops.map(describeOp), journalId: entry.id, verdict, canary };
  });
}
