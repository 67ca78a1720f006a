/**
 * Desired-table replication between directors through ZooKeeper: after each
 * completed write an agent publishes its table (ipvsadm -Sn text, signed with
 * the cluster's table key; see table-signing.ts) to `<root>/table` with a
 * version check; every agent watches that znode and applies a peer's table in
 * replace mode, so a failover needs no reconfiguration. With ZooKeeper down
 * writes still apply locally and the status says they are not replicated;
 * they are published on reconnect.
 *
 * What arrives is checked before anything is applied: a payload that is not
 * signed with the key, or older than the last applied, is refused; so is any
 * table while the root or the table node can be changed without the
 * cluster's credentials. A signed change that removes every service, or more
 * than `holdShare` of them, is held until an operator confirms it.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { ServiceEntry } from '@/lib/ipvs/model';
import { formatServiceKey } from '@/lib/ipvs/format';
import { serviceId } from '@/lib/ipvs/ids';
import { DEFAULT_HOLD_SHARE, replicatedRemovals } from '@/lib/ha/hold';
import { describeChange, undoneBy, type OutsideChange } from '@/lib/agent/outside';
import type { SignedTable } from '@/lib/ha/zk-layout';
import type { HaHeldTable, HaTableRefusal, HaTransition } from '@/lib/schemas/ha';
import { formatSnapshot } from '@/lib/snapshot/format';
import { toRules } from '@/lib/snapshot/json';
import { parseSnapshot, type ParsedSnapshot } from '@/lib/snapshot/parse';
import type { PlanOp } from '@/lib/snapshot/plan';
import { numericOnly } from '@/lib/snapshot/resolve';
import { restoreTable } from '../snapshot/apply';
import type { TableHub } from '../live/hub';
import type { Journal, JournalEntry, PendingChange } from '../table/journal';
import { touchedObjects } from '../table/snapshot-ops';
import type { Mutex } from '../table/mutex';
import { HaPreconditionError } from './service';
import { encodeSignedTable, nextSeq, signTable, verifyTable, type LastSeen } from './table-signing';
import { isBadVersion, isNodeExists, type ZkSession } from './zookeeper';

export const REPLICATE_OP = 'ha.replicate';
/** while an ACL keeps replication refused, look again this often (an operator may have fixed it) */
const ACL_RECHECK_MS = 10_000;
const HELD_LABELS = 20;

/** Writes that are this director's own business and are not pushed to peers. */
export function publishes(e: JournalEntry): boolean {
  if (e.op === REPLICATE_OP || e.op.startsWith('health.')) return false;
  // a sync daemon is each director's own (one master, one backup): not part of the shared table
  return e.objects.some((o) => o.kind !== 'counters' && o.kind !== 'daemon');
}

/** The parts of a ZooKeeper session replication uses (ZkSession; a stateful fake in unit tests). */
export type TableZk = Pick<ZkSession, 'state' | 'generation' | 'get' | 'create' | 'set_' | 'mkdirp' | 'aclProblem'>;

export interface TableSyncDeps {
  backend: IpvsBackend;
  journal: Journal;
  writeLock: Mutex;
  hub: TableHub;
  log: Logger;
  director: string;
  /** `<root>/table` */
  path: string;
  /** the cluster's zkRoot: bound into every signature, and its ACL is checked */
  root: string;
  /** the table key (null until the HA secrets are loaded: nothing is published or applied) */
  key: () => Uint8Array | null;
  /** share of the local services a replicated change may remove without an operator (default 0.5) */
  holdShare?: number;
  /** where the last applied or published sequence is kept across restarts (null: memory only) */
  seqFile?: string | null;
  /** while an ACL keeps replication refused, look again this often (default 10 s) */
  aclRecheckMs?: number;
  /** the outside changes on this director now (server/table/outside.ts): a table that would undo one is held */
  outside?: () => readonly OutsideChange[];
  onChange(): void;
  /** a line for the HA transitions */
  record?(kind: HaTransition['kind'], from: string | null, to: string, reason: string): void;
}

export class TableSync {
  appliedVersion: number | null = null;
  zkVersion: number | null = null;
  lastError: string | null = null;
  refused: HaTableRefusal | null = null;
  held: HaHeldTable | null = null;
  private heldPayload: { payload: SignedTable; parsed: ParsedSnapshot } | null = null;
  private last: LastSeen | null = null;
  private lastLoaded = false;
  private aclCheckedAt = 0;
  /** local writes not yet in ZooKeeper */
  private dirty = false;
  private pending = false;
  private zk: TableZk | null = null;
  private generation = -1;
  private busy: Promise<void> = Promise.resolve();
  private readonly unsubscribe: () => void;

  constructor(private readonly d: TableSyncDeps) {
    this.unsubscribe = d.journal.onAppend((e) => {
      if (!publishes(e)) return;
      this.dirty = true;
      this.queue(() => this.publish());
    });
  }

  private async localText(): Promise<string> {
    return formatSnapshot(toRules(await this.d.backend.dump()), { thresholds: true });
  }

  private queue(fn: () => Promise<void>): void {
    this.busy = this.busy.then(fn).catch((e: unknown) => {
      this.lastError = `not replicated: ${(e as Error).message}`;
      this.d.log.warn({ err: e }, 'table replication failed');
      this.d.onChange();
    });
  }

  /** Run `fn` in turn with replication work, its outcome (or error) to the caller. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn);
    this.busy = run.then(() => {}, () => {});
    return run;
  }

  /** Called by the controller on every tick; acts on a new session and on watch events. */
  attach(zk: TableZk): void {
    this.zk = zk;
    if (zk.state !== 'connected') {
      if (this.dirty && !this.lastError) {
        this.lastError = 'not replicated: ZooKeeper is unreachable; local changes will be published on reconnect';
        this.d.onChange();
      }
      return;
    }
    // while an ACL keeps replication refused, local writes wait for the next look at it (not one per tick)
    const aclBlocked = this.refused?.zkVersion === null;
    const aclRecheck = aclBlocked && Date.now() - this.aclCheckedAt > (this.d.aclRecheckMs ?? ACL_RECHECK_MS);
    // a new session (watches and all to set up), writes made while ZooKeeper was away (the same session may resume),
    // or a look at an ACL that kept replication refused
    if (!this.pending && (zk.generation !== this.generation || (this.dirty && !aclBlocked) || aclRecheck)) {
      this.generation = zk.generation;
      this.pending = true;
      this.queue(() => this.sync().finally(() => { this.pending = false; }));
    }
  }

  private watch = () => this.queue(() => this.sync());

  private async loadLast(): Promise<void> {
    if (this.lastLoaded) return;
    this.lastLoaded = true;
    if (!this.d.seqFile) return;
    try {
      const v = JSON.parse(await readFile(this.d.seqFile, 'utf8')) as Partial<LastSeen>;
      if (Number.isSafeInteger(v.seq) && typeof v.mac === 'string' && /^[0-9a-f]{64}$/.test(v.mac)) this.last = { seq: v.seq!, mac: v.mac };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.d.log.warn({ err: e, file: this.d.seqFile }, 'last table sequence unreadable: accepting any signed table');
    }
  }

  private async setLast(p: SignedTable): Promise<void> {
    this.last = { seq: p.seq, mac: p.mac };
    if (!this.d.seqFile) return;
    const tmp = `${this.d.seqFile}.tmp`;
    await writeFile(tmp, `${JSON.stringify(this.last)}\n`, { mode: 0o600 });
    await rename(tmp, this.d.seqFile);
  }

  private refuse(reason: string, zkVersion: number | null): void {
    const again = this.refused?.reason === reason && this.refused.zkVersion === zkVersion;
    this.refused = { at: again ? this.refused!.at : Date.now(), reason, zkVersion };
    if (!again) {
      this.d.log.error({ reason, zkVersion }, 'shared table refused: nothing applied');
      this.d.record?.('table', null, 'refused', `shared table refused, nothing applied: ${reason}`);
    }
    this.d.onChange();
  }

  private key(): Uint8Array {
    const k = this.d.key();
    if (!k) throw new Error('the table key is not loaded');
    return k;
  }

  /** Read the shared table (re-arming the watch) and converge: publish ours if we have unpublished writes, else apply theirs. */
  private async sync(): Promise<void> {
    const zk = this.zk;
    if (!zk || zk.state !== 'connected') return;
    const key = this.key();
    await this.loadLast();
    this.aclCheckedAt = Date.now();
    const acl = await zk.aclProblem([this.d.root, this.d.path]);
    if (acl) {
      // anyone could have written the table, or can delete and recreate it: neither publish nor apply
      this.refuse(`${acl}. Restrict it (zkCli: addauth digest <the credentials file's line>; setAcl -R ${this.d.root} auth::cdrwa)`, null);
      return;
    }
    if (this.refused?.zkVersion === null) this.refused = null;
    const node = await zk.get(this.d.path, this.watch);
    if (node === null || this.dirty) {
      await this.publish();
      // watches fire once: arm it again on the node we just wrote
      await zk.get(this.d.path, this.watch);
      return;
    }
    this.zkVersion = node.stat.version;
    const v = verifyTable(key, this.d.root, node.data, this.last);
    if (!v.ok) {
      this.refuse(v.reason, node.stat.version);
      return;
    }
    if (!v.same) {
      const theirs = v.payload.table;
      if (theirs !== (await this.localText())) {
        const parsed = await this.parse(theirs);
        const local = toRules(await this.d.backend.dump());
        const verdict = replicatedRemovals(local.map((s) => serviceId(s.key)), parsed.services.map((s) => serviceId(s.key)), this.d.holdShare ?? DEFAULT_HOLD_SHARE);
        // never undo an edit made outside Director here without asking: show it, and wait for adopt, revert or confirm
        const undone = undoneBy(this.d.outside?.() ?? [], parsed.services);
        if (verdict.hold || undone.length) {
          this.hold(v.payload, parsed, node.stat.version, verdict, local, undone);
          return;
        }
        await this.apply(parsed, 'ha-replication');
      }
      await this.setLast(v.payload);
    }
    this.settled(node.stat.version);
  }

  private settled(zkVersion: number): void {
    this.appliedVersion = zkVersion;
    this.refused = null;
    if (this.held) this.d.record?.('table', 'held', 'replaced', `the held change (sequence ${this.held.seq}) was replaced by a newer table`);
    this.held = null;
    this.heldPayload = null;
    this.lastError = null;
    this.d.onChange();
  }

  private hold(
    payload: SignedTable, parsed: ParsedSnapshot, zkVersion: number, verdict: ReturnType<typeof replicatedRemovals>,
    local: { key: Parameters<typeof formatServiceKey>[0] }[], undone: readonly OutsideChange[],
  ): void {
    const labels = new Map(local.map((s) => [serviceId(s.key), formatServiceKey(s.key)]));
    const same = this.held?.seq === payload.seq;
    const why = [
      ...(verdict.hold ? [verdict.reason] : []),
      ...(undone.length ? [`it would undo changes made outside Director on ${this.d.director} to ${undone.length} service(s) `
        + `(${undone.slice(0, 3).map((c) => formatServiceKey(c.service)).join(', ')}${undone.length > 3 ? ', ...' : ''}): adopt or revert them there, or`] : []),
    ];
    this.held = {
      at: same ? this.held!.at : Date.now(), seq: payload.seq, zkVersion, from: payload.director,
      reason: `a replicated change from ${payload.director} is held: ${why.join('; ')}${undone.length ? '' : ';'} confirm it to apply`,
      removed: verdict.removed.slice(0, HELD_LABELS).map((id) => labels.get(id) ?? id), removedCount: verdict.removed.length, of: verdict.of,
      ...(undone.length ? {
        outside: undone.flatMap((c) => c.changes.map((x) => `${formatServiceKey(c.service)}: ${describeChange(x)}`)).slice(0, HELD_LABELS),
      } : {}),
    };
    this.heldPayload = { payload, parsed };
    this.refused = null;
    if (!same) {
      this.d.log.warn({ seq: payload.seq, from: payload.director, removes: verdict.removed.length, of: verdict.of }, 'replicated table held for an operator');
      this.d.record?.('table', null, 'held', this.held.reason);
    }
    this.d.onChange();
  }

  /** An operator's confirmation of the held change with sequence `seq`: applied (journaled) as replication would have. */
  confirmHeld(seq: number, by: string): Promise<void> {
    return this.exclusive(async () => {
      const h = this.heldPayload;
      if (!h || !this.held) throw new HaPreconditionError(`${this.d.director} holds no replicated change`);
      if (h.payload.seq !== seq) throw new HaPreconditionError(`the held change is sequence ${h.payload.seq}, not ${seq}: look again before confirming`);
      const zkVersion = this.held.zkVersion;
      await this.apply(h.parsed, by);
      await this.setLast(h.payload);
      this.d.record?.('table', 'held', 'applied', `held change (sequence ${seq} from ${h.payload.director}) confirmed by ${by} and applied`);
      this.held = null;
      this.heldPayload = null;
      this.settled(zkVersion);
    });
  }

  private async publish(): Promise<void> {
    const zk = this.zk;
    if (!zk || zk.state !== 'connected') {
      this.lastError = 'not replicated: ZooKeeper is unreachable; local changes will be published on reconnect';
      this.d.onChange();
      return;
    }
    const key = this.key();
    await this.loadLast();
    if (this.refused?.zkVersion === null) return; // the ACL: do not publish into a table anyone can change
    const text = await this.localText();
    for (let attempt = 0; attempt < 3; attempt++) {
      const cur = await zk.get(this.d.path);
      // a refused payload (forged, stale) is overwritten by this legitimate write; its sequence counts for nothing
      const v = cur ? verifyTable(key, this.d.root, cur.data, null) : null;
      const curSeq = v?.ok ? v.payload.seq : null;
      try {
        if (v?.ok && v.payload.table === text) {
          this.zkVersion = cur!.stat.version;
          await this.setLast(v.payload);
        } else {
          const signed = signTable(key, this.d.root, { seq: nextSeq(curSeq, this.last), ts: Date.now(), director: this.d.director, table: text });
          const data = encodeSignedTable(signed);
          if (cur === null) {
            await zk.mkdirp(this.d.path.slice(0, this.d.path.lastIndexOf('/')) || '/');
            await zk.create(this.d.path, data, false);
            this.zkVersion = 0;
          } else {
            // the version check: someone published in between -> read again and retry (our write is the newer one)
            this.zkVersion = (await zk.set_(this.d.path, data, cur.stat.version)).version;
          }
          await this.setLast(signed);
        }
        this.dirty = false;
        this.settled(this.zkVersion!);
        return;
      } catch (e) {
        if (isBadVersion(e) || isNodeExists(e)) continue;
        throw e;
      }
    }
    throw new Error('the shared table kept changing while publishing');
  }

  private async parse(text: string): Promise<ParsedSnapshot> {
    const parsed = await parseSnapshot(text, { resolver: numericOnly });
    if (parsed.errors.length) throw new Error(`the shared table does not parse: line ${parsed.errors[0]!.line}: ${parsed.errors[0]!.message}`);
    return parsed;
  }

  /** A peer's table, in replace mode, under the agent's write lock, journaled like any write. */
  private async apply(parsed: ParsedSnapshot, tokenName: string): Promise<void> {
    await this.d.writeLock.run(async () => {
      // write-ahead like every table write: journaled (fsynced) once planned, before the first operation
      let pending: PendingChange | null = null;
      let plan: { ops: readonly PlanOp[]; before: readonly ServiceEntry[] } | null = null;
      let result;
      try {
        result = await restoreTable(this.d.backend, parsed.services, {
          mode: 'replace', lines: parsed.lines,
          onPlanned: async (ops, before) => {
            plan = { ops, before };
            pending = await this.d.journal.begin({ role: 'operator', tokenName, remote: 'zookeeper', op: REPLICATE_OP, summary: `${ops.length} operation(s)` });
          },
        });
      } catch (e) {
        const p = pending as PendingChange | null;
        const planned = plan as { ops: readonly PlanOp[]; before: readonly ServiceEntry[] } | null;
        if (p && planned) {
          // what a failed rollback left changed is journaled, so undo can revert it
          const remains = await touchedObjects(this.d, planned.ops, planned.before, true).catch(() => []);
          await p.failed((e as Error)?.message ?? String(e), remains);
        }
        throw e;
      }
      if (result.applied === 0 || !pending) return;
      const objects = await touchedObjects(this.d, result.ops, result.before, false);
      await (pending as PendingChange).done(objects);
      this.d.hub.poke(objects.flatMap((o) => (o.kind === 'service' ? [o.key] : [])));
      this.d.log.info({ applied: result.applied, by: tokenName }, 'applied the shared table from ZooKeeper');
    });
  }

  close(): void {
    this.unsubscribe();
  }
}
