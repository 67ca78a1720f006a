/**
 * Desired-table replication between directors through ZooKeeper: after each
 * completed write an agent publishes its table (ipvsadm -Sn text) to
 * `<root>/table` with a version check; every agent watches that znode and
 * applies a peer's table in replace mode, so a failover needs no
 * reconfiguration. With ZooKeeper down writes still apply locally and the
 * status says they are not replicated; they are published on reconnect.
 */
import type { Logger } from 'pino';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { serviceId } from '@/lib/agent/ids';
import { formatSnapshot } from '@/lib/snapshot/format';
import { toRules } from '@/lib/snapshot/json';
import { parseSnapshot } from '@/lib/snapshot/parse';
import { numericOnly } from '@/lib/snapshot/resolve';
import { restoreTable } from '../snapshot/apply';
import type { TableHub } from '../agent/hub';
import type { Journal, JournalEntry, JournalObject } from '../agent/journal';
import type { Mutex } from '../agent/mutex';
import { readService } from '../agent/ops';
import { isBadVersion, isNodeExists, type ZkSession } from './zookeeper';

export const REPLICATE_OP = 'ha.replicate';

/** Writes that are this director's own business and are not pushed to peers. */
export function publishes(e: JournalEntry): boolean {
  if (e.op === REPLICATE_OP || e.op.startsWith('health.')) return false;
  return e.objects.some((o) => o.kind !== 'counters');
}

export interface TableSyncDeps {
  backend: IpvsBackend;
  journal: Journal;
  writeLock: Mutex;
  hub: TableHub;
  log: Logger;
  director: string;
  path: string;
  onChange(): void;
}

export class TableSync {
  appliedVersion: number | null = null;
  zkVersion: number | null = null;
  lastError: string | null = null;
  /** local writes not yet in ZooKeeper */
  private dirty = false;
  private pending = false;
  private zk: ZkSession | null = null;
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

  /** Called by the controller on every tick; acts on a new session and on watch events. */
  attach(zk: ZkSession): void {
    this.zk = zk;
    if (zk.state !== 'connected') {
      if (this.dirty && !this.lastError) {
        this.lastError = 'not replicated: ZooKeeper is unreachable; local changes will be published on reconnect';
        this.d.onChange();
      }
      return;
    }
    // a new session (watches and all to set up), or writes made while ZooKeeper was away (the same session may resume)
    if (zk.generation !== this.generation || (this.dirty && !this.pending)) {
      this.generation = zk.generation;
      this.pending = true;
      this.queue(() => this.sync().finally(() => { this.pending = false; }));
    }
  }

  private watch = () => this.queue(() => this.sync());

  /** Read the shared table (re-arming the watch) and converge: publish ours if we have unpublished writes, else apply theirs. */
  private async sync(): Promise<void> {
    const zk = this.zk;
    if (!zk || zk.state !== 'connected') return;
    const node = await zk.get(this.d.path, this.watch);
    if (node === null || this.dirty) {
      await this.publish();
      // watches fire once: arm it again on the node we just wrote
      await zk.get(this.d.path, this.watch);
      return;
    }
    this.zkVersion = node.stat.version;
    const theirs = node.data?.toString('utf8') ?? '';
    const mine = await this.localText();
    if (theirs !== mine) await this.apply(theirs);
    this.appliedVersion = node.stat.version;
    if (this.lastError) this.lastError = null;
    this.d.onChange();
  }

  private async publish(): Promise<void> {
    const zk = this.zk;
    if (!zk || zk.state !== 'connected') {
      this.lastError = 'not replicated: ZooKeeper is unreachable; local changes will be published on reconnect';
      this.d.onChange();
      return;
    }
    const text = await this.localText();
    const data = Buffer.from(text, 'utf8');
    for (let attempt = 0; attempt < 3; attempt++) {
      const cur = await zk.get(this.d.path);
      try {
        if (cur === null) {
          await zk.mkdirp(this.d.path.slice(0, this.d.path.lastIndexOf('/')) || '/');
          await zk.create(this.d.path, data, false);
          this.zkVersion = 0;
        } else {
          if (cur.data?.toString('utf8') === text) {
            this.zkVersion = cur.stat.version;
          } else {
            // the version check: someone published in between -> read again and retry (our write is the newer one)
            this.zkVersion = (await zk.set_(this.d.path, data, cur.stat.version)).version;
          }
        }
        this.appliedVersion = this.zkVersion;
        this.dirty = false;
        this.lastError = null;
        this.d.onChange();
        return;
      } catch (e) {
        if (isBadVersion(e) || isNodeExists(e)) continue;
        throw e;
      }
    }
    throw new Error('the shared table kept changing while publishing');
  }

  /** A peer's table, in replace mode, under the agent's write lock, journaled like any write. */
  private async apply(text: string): Promise<void> {
    const parsed = await parseSnapshot(text, { resolver: numericOnly });
    if (parsed.errors.length) throw new Error(`the shared table does not parse: line ${parsed.errors[0]!.line}: ${parsed.errors[0]!.message}`);
    await this.d.writeLock.run(async () => {
      const result = await restoreTable(this.d.backend, parsed.services, { mode: 'replace', lines: parsed.lines });
      if (result.applied === 0) return;
      const touched = new Map(result.ops.map((op) => [serviceId(op.service.key), op.service.key]));
      const beforeById = new Map(toRules(result.before).map((s) => [serviceId(s.key), s]));
      const objects: JournalObject[] = [];
      for (const [id, key] of touched) {
        objects.push({ kind: 'service', key, before: beforeById.get(id) ?? null, after: await readService(this.d.backend, key) });
      }
      await this.d.journal.append({ role: 'operator', tokenName: 'ha-replication', remote: 'zookeeper', op: REPLICATE_OP, objects });
      this.d.hub.poke([...touched.values()]);
      this.d.log.info({ applied: result.applied }, 'applied the shared table from ZooKeeper');
    });
  }

  close(): void {
    this.unsubscribe();
  }
}
