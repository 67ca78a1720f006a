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
import { toRules } from '@/lib/snapshot/json';
import { describeOp, invert, planRestore, type PlanInput, type PlanMode, type PlanOp } from '@/lib/snapshot/plan';
import { quickServiceTable } from '@/lib/snapshot/validate';
import { Mutex } from '../table/mutex';
import { WRITE_BATCH, isBatchWriter, type IpvsBatchWriter, type IpvsWrite } from '../ipvs/netlink-client';

export interface RestoreOptions extends PlanInput {
  mode?: PlanMode;
  /** Plan only; the kernel is read, never written. */
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
  /**
   * Called once the plan is known and before the kernel is written (not for
   * a dry run or an empty plan); if it throws, nothing is applied. The
   * journal records the restore here.
   */
  onPlanned?: (ops: readonly PlanOp[], before: readonly ServiceEntry[]) => Promise<void>;
  /** Requests in flight at once (1 = one at a time, as ipvsadm; more lets a netlink backend batch WRITE_BATCH per datagram). */
  window?: number;
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

function toWrite(op: PlanOp): IpvsWrite {
  switch (op.kind) {
    case 'createService': return { kind: 'addService', spec: op.service };
    case 'updateService': return { kind: 'updateService', spec: op.service };
    case 'removeService': return { kind: 'removeService', key: op.service.key };
    case 'createDestination': return { kind: 'addDestination', service: op.service.key, dest: op.destination };
    case 'updateDestination': return { kind: 'updateDestination', service: op.service.key, dest: op.destination };
    case 'removeDestination': return {
      kind: 'removeDestination', service: op.service.key,
      dest: { family: op.destination.family, address: op.destination.address, port: op.destination.port },
    };
  }
}

/**
 * The batched form of the send loop below: WRITE_BATCH ops per datagram,
 * one datagram at a time. Fills `ok` and `fail` exactly as the loop does;
 * returns true when a batch's outcome is unknown (the socket failed), so
 * the caller must re-read the table rather than trust `ok`.
 */
async function sendBatches(
  b: IpvsBatchWriter, ops: readonly PlanOp[], ok: boolean[], fail: { first: { index: number; error: unknown } | null },
  progress: (n: number) => void,
): Promise<boolean> {
  for (let i = 0; i < ops.length && fail.first === null; i += WRITE_BATCH) {
    const slice = ops.slice(i, i + WRITE_BATCH);
    let results;
    try {
      results = await b.writeBatch(slice.map(toWrite));
    } catch (e) {
      fail.first = { index: i, error: e };
      return true;
    }
    let n = 0;
    results.forEach((r, k) => {
      if (r === 'ok') { ok[i + k] = true; n++; } else if (r !== undefined && fail.first === null) fail.first = { index: i + k, error: r };
    });
    progress(n);
  }
  return false;
}

/** Requests in flight at once by default: enough to hide the round trip, few enough that the acks fit the socket's receive buffer. */
export const DEFAULT_APPLY_WINDOW = 32;

/**
 * Applies ops in order, keeping up to `window` requests in flight (the
 * kernel handles them in the order sent, so a destination still follows its
 * service). On a refusal: stop sending, let the in-flight ones settle, undo
 * every applied op newest first, and throw RestoreFailedError for the first
 * refused op in plan order. Ops sent after the refusal may have succeeded in
 * a table the plan no longer describes, so when `before` is given the table
 * is read again and any remaining difference is repaired op by op.
 */
export async function applyPlan(
  b: IpvsBackend, ops: readonly PlanOp[], onProgress?: (done: number, total: number) => void,
  opts: { window?: number; before?: readonly ServiceEntry[] } = {},
): Promise<number> {
  const window = Math.max(1, opts.window ?? DEFAULT_APPLY_WINDOW);
  const ok: boolean[] = new Array(ops.length).fill(false);
  const fail: { first: { index: number; error: unknown } | null } = { first: null };
  let next = 0, done = 0;
  onProgress?.(0, ops.length);
  const worker = async () => {
    while (fail.first === null && next < ops.length) {
      const i = next++;
      try {
        await runOp(b, ops[i]!);
        ok[i] = true;
        // count outside the optional call: `f?.(++x)` skips the increment when f is absent
        done++;
        onProgress?.(done, ops.length);
      } catch (e) {
        const first = fail.first as { index: number } | null; // set by another worker while this one awaited
        if (first === null || i < first.index) fail.first = { index: i, error: e };
      }
    }
  };
  let unknown = false;
  if (window > 1 && isBatchWriter(b)) {
    unknown = await sendBatches(b, ops, ok, fail, (n) => { done += n; onProgress?.(done, ops.length); });
  } else {
    await Promise.all(Array.from({ length: Math.min(window, ops.length) }, worker));
  }
  if (fail.first === null) return done;

  const { index, error } = fail.first;
  const op = ops[index]!;
  const cause = isIpvsError(error) ? error : new IpvsError('internal', (error as Error)?.message ?? String(error), undefined, { cause: error });
  const rollbackErrors: { op: PlanOp; error: Error }[] = [];
  let undone = 0;
  for (let i = ops.length - 1; i >= 0; i--) {
    if (!ok[i]) continue;
    const undo = invert(ops[i]!);
    try {
      await runOp(b, undo);
      undone++;
    } catch (ue) {
      rollbackErrors.push({ op: undo, error: ue as Error });
    }
  }
  if (opts.before && (unknown || rollbackErrors.length > 0 || ok.some((v, i) => v && i > index))) {
    try {
      const repair = planRestore(await b.dump(), toRules(opts.before), { mode: 'replace' });
      const errors: { op: PlanOp; error: Error }[] = [];
      for (const r of repair) {
        try { await runOp(b, r); } catch (re) { errors.push({ op: r, error: re as Error }); }
      }
      // the table now matches what it was: earlier undo failures are healed
      rollbackErrors.splice(0, rollbackErrors.length, ...errors);
    } catch (re) {
      rollbackErrors.push({ op, error: re as Error });
    }
  }
  throw new RestoreFailedError(op, op.line, cause, undone, rollbackErrors);
}

export function validateTable(desired: unknown): ServiceRules[] {
  // zod costs about a second on a 50,000-line table that parseSnapshot has already checked line by line
  const quick = quickServiceTable(desired);
  if (quick) return quick;
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
    await opts.onPlanned?.(ops, before);
    const applied = await applyPlan(b, ops, opts.onProgress, { window: opts.window, before });
    return { ops, applied, dryRun: false, before };
  });
}
