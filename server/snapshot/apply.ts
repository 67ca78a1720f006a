/**
 * All-or-nothing restore: validate the whole desired table, read the live
 * one, plan, apply in the plan's safe order, and if the kernel refuses any
 * operation, undo what was applied in reverse order so the table is exactly
 * as before. Restores of one backend never interleave (a FIFO mutex per
 * backend): planning against a table another restore is changing would be
 * planning against a lie.
 */
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { IpvsError, isIpvsError } from '@/lib/ipvs/errors';
import type { ServiceEntry, ServiceRules } from '@/lib/ipvs/model';
import { serviceTableSchema } from '@/lib/schemas/ipvs';
import { describeOp, invert, planRestore, type PlanInput, type PlanMode, type PlanOp } from '@/lib/snapshot/plan';
import { Mutex } from '../agent/mutex';

export interface RestoreOptions extends PlanInput {
  mode?: PlanMode;
  /** Plan only; the kernel is read, never written. */
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface RestoreResult {
  ops: PlanOp[];
  /** Operations applied (0 for a dry run or an empty plan). */
  applied: number;
  dryRun: boolean;
  /** The table as read before anything was changed. */
  before: ServiceEntry[];
}

/** The desired table broke a rule; nothing was sent to the kernel. */
export class SnapshotInvalidError extends Error {
  override readonly name = 'SnapshotInvalidError';
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid snapshot: ${issues.slice(0, 5).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
  }
}

/** The kernel refused one operation; everything before it has been undone (unless rollbackErrors says otherwise). */
export class RestoreFailedError extends Error {
  override readonly name = 'RestoreFailedError';
  constructor(
    readonly op: PlanOp,
    readonly line: number | undefined,
    override readonly cause: IpvsError,
    readonly undone: number,
    readonly rollbackErrors: { op: PlanOp; error: Error }[],
  ) {
    super(`${line !== undefined ? `line ${line}: ` : ''}the kernel refused '${describeOp(op)}': ${cause.message}`
      + (rollbackErrors.length === 0
        ? `; the ${undone} operation(s) already applied were undone, the table is unchanged`
        : `; ROLLBACK INCOMPLETE: ${rollbackErrors.length} undo operation(s) failed (first: ${rollbackErrors[0]!.error.message})`));
  }
}

const locks = new WeakMap<IpvsBackend, Mutex>();
function lockFor(b: IpvsBackend): Mutex {
  let m = locks.get(b);
  if (!m) locks.set(b, (m = new Mutex()));
  return m;
}

export async function runOp(b: IpvsBackend, op: PlanOp): Promise<void> {
  switch (op.kind) {
    case 'createService': return b.addService(op.service);
    case 'updateService': return b.updateService(op.service);
    case 'removeService': return b.removeService(op.service.key);
    case 'createDestination': return b.addDestination(op.service.key, op.destination);
    case 'updateDestination': return b.updateDestination(op.service.key, op.destination);
    case 'removeDestination': return b.removeDestination(op.service.key, { family: op.destination.family, address: op.destination.address, port: op.destination.port });
  }
}

/** Applies ops in order; on a refusal undoes the applied ones newest first and throws RestoreFailedError. */
export async function applyPlan(b: IpvsBackend, ops: readonly PlanOp[], onProgress?: (done: number, total: number) => void): Promise<number> {
  const done: PlanOp[] = [];
  onProgress?.(0, ops.length);
  for (const op of ops) {
    try {
      await runOp(b, op);
    } catch (e) {
      const cause = isIpvsError(e) ? e : new IpvsError('internal', (e as Error).message ?? String(e), undefined, { cause: e });
      const rollbackErrors: { op: PlanOp; error: Error }[] = [];
      for (let i = done.length - 1; i >= 0; i--) {
        const undo = invert(done[i]!);
        try {
          await runOp(b, undo);
        } catch (ue) {
          rollbackErrors.push({ op: undo, error: ue as Error });
        }
      }
      throw new RestoreFailedError(op, op.line, cause, done.length, rollbackErrors);
    }
    done.push(op);
    onProgress?.(done.length, ops.length);
  }
  return done.length;
}

export function validateTable(desired: unknown): ServiceRules[] {
  const r = serviceTableSchema.safeParse(desired);
  if (!r.success) throw new SnapshotInvalidError(r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  return r.data;
}

/** Makes the kernel's table match `desired` (merge: only the services in it; replace: the whole table). */
export async function restoreTable(b: IpvsBackend, desired: readonly ServiceRules[], opts: RestoreOptions = {}): Promise<RestoreResult> {
  const valid = validateTable(desired);
  return lockFor(b).run(async () => {
    const before = await b.dump();
    const ops = planRestore(before, valid, opts);
    if (opts.dryRun || ops.length === 0) {
      return { ops, applied: 0, dryRun: !!opts.dryRun, before };
    }
    const applied = await applyPlan(b, ops, opts.onProgress);
    return { ops, applied, dryRun: false, before };
  });
}
