/**
 * The outside-change watch. It keeps what Director last wrote (the expected
 * table: configuration only, persisted in the state directory so a restart
 * does not forget it) from the journal's entries, and compares the table the
 * hub samples with it. A difference that no journaled write explains was
 * made by another tool: it is kept as an alarm (outside.list), until an
 * operator adopts it (journaled; expected := the table) or reverts it
 * (Director's last configuration put back through the one writer).
 *
 * A sample is compared only when it cannot hold a Director write half made:
 * it began with no change in flight and no change began or finished while
 * it read (Journal.activity), and it left no service out.
 */
import { mkdir, open as openFile, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '@/lib/errors';
import { sameServiceRules } from '@/lib/ipvs/config';
import { formatServiceKey } from '@/lib/ipvs/format';
import { keptServiceId, serviceId } from '@/lib/ipvs/ids';
import type { ServiceEntry, ServiceKey, ServiceRules } from '@/lib/ipvs/model';
import { serviceRulesSchema } from '@/lib/schemas/ipvs';
import {
  absorbWrite, describeChange, rulesOf, rulesTable, touchedServices, updateOutsideChanges, type OutsideChange, type RulesTable,
} from '@/lib/agent/outside';
import type { JournalEntry, JournalObject } from '@/lib/journal/types';
import type { TableHub, TableWatcher } from '../live/hub';
import type { Journal } from './journal';
import { journaled, readService, restoreService, write, type WriteCtx } from './ops';

const FILE = 'outside-expected.json';
const SAVE_MS = 250;
/** the expected table on disk; larger is not ours (a table this big is refused before it is written) */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

const fileSchema = z.object({
  v: z.literal(1),
  /** the kernel boot the table belongs to: a new boot starts from the table as found */
  boot: z.string().max(64).nullable(),
  /** the newest journal entry the table includes */
  journal: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).default(0),
  services: z.array(serviceRulesSchema).max(100_000),
});

export interface OutsideStatus {
  /** false until the first complete sample (nothing to compare with yet) */
  ready: boolean;
  /** when the table was last compared (ms; 0: never) */
  checkedAt: number;
  changes: OutsideChange[];
}

type Activity = ReturnType<Journal['activity']>;

async function bootId(): Promise<string | null> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim().slice(0, 64) || null;
  } catch {
    return null;
  }
}

export class OutsideWatch implements TableWatcher {
  private expected: RulesTable | null;
  /** journaled writes not yet taken into `expected` (no clean sample since) */
  private pending: { id: number; objects: JournalObject[] }[] = [];
  /** the newest journal entry taken into `expected` (saved with it: a restart replays the ones after) */
  private absorbedUpTo = 0;
  /** a sample since the last comparison may differ: compare at the next clean one */
  private dirty = true;
  private changes: OutsideChange[] = [];
  private nextId = 1;
  private checkedAt = 0;
  /** the entries of the last sample compared, by service id: an entry the hub hands back unchanged needs no look */
  private lastSeen: Map<string, ServiceEntry> | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private saving: Promise<void> = Promise.resolve();
  private readonly unsubscribe: () => void;

  private constructor(
    private readonly d: { journal: Journal; hub: TableHub; log: Logger; file: string | null; boot: string | null },
    loaded: RulesTable | null,
  ) {
    this.expected = loaded;
    this.unsubscribe = d.journal.onAppend((e) => this.written(e));
    d.hub.watch(this);
  }

  /** Watch `hub`, with the expected table kept in `stateDir` (null: memory only, for tests). */
  static async open(opts: { journal: Journal; hub: TableHub; log: Logger; stateDir: string | null; boot?: string | null }): Promise<OutsideWatch> {
    const boot = opts.boot !== undefined ? opts.boot : await bootId();
    const file = opts.stateDir === null ? null : path.join(opts.stateDir, FILE);
    let loaded: RulesTable | null = null;
    let upTo = 0;
    if (file) {
      try {
        const text = await readFile(file, 'utf8');
        if (text.length > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
        const parsed = fileSchema.parse(JSON.parse(text));
        if (parsed.boot === boot) {
          loaded = rulesTable(parsed.services);
          upTo = parsed.journal;
        }
        else opts.log.info('the kernel booted since Director last wrote: the table as found is the starting point for outside changes');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          opts.log.warn({ err: e, file }, 'cannot read what Director last wrote; starting from the table as found');
        }
      }
    }
    const w = new OutsideWatch({ journal: opts.journal, hub: opts.hub, log: opts.log, file, boot }, loaded);
    if (loaded) w.replay(upTo);
    return w;
  }

  /**
   * Journaled writes newer than the saved table (the agent stopped before
   * it was saved) are taken in as if just made. An interrupted one is not:
   * the kernel may or may not hold it, and what it holds shows as it is.
   */
  private replay(upTo: number): void {
    this.absorbedUpTo = upTo;
    const after = this.d.journal.list({ limit: Number.MAX_SAFE_INTEGER }).filter((e) => e.id > upTo).reverse();
    for (const e of after) {
      const state = e.state ?? 'done';
      if ((state === 'done' || state === 'failed') && e.objects.length) this.pending.push({ id: e.id, objects: e.objects });
    }
  }

  close(): void {
    void this.flushed();
    this.unsubscribe();
    this.d.hub.watch(null);
  }

  status(): OutsideStatus {
    return { ready: this.expected !== null, checkedAt: this.checkedAt, changes: this.changes };
  }

  /** What Director last wrote for one service (undefined: not known yet). */
  expectedOf(key: ServiceKey): ServiceRules | null | undefined {
    return this.expected ? this.expected.get(serviceId(key)) ?? null : undefined;
  }

  /** A journaled write: what it left becomes expected at the next clean sample, which reads its services again. */
  private written(e: JournalEntry): void {
    if (e.objects.length === 0) return;
    this.pending.push({ id: e.id, objects: e.objects });
    this.dirty = true;
    const keys = e.objects.flatMap((o) => (o.kind === 'service' ? [o.key] : o.kind === 'destination' ? [o.service] : []));
    if (keys.length) this.d.hub.touch(keys);
  }

  starting(): Activity {
    return this.d.journal.activity();
  }

  sampled(token: unknown, entries: readonly ServiceEntry[], info: { changed: boolean; complete: boolean }): void {
    // called inside the hub's sample: a fault here must not stop the table being read for everyone else
    try {
      this.compare(token as Activity, entries, info);
    } catch (err) {
      this.dirty = true;
      if (!this.failed) this.d.log.error({ err }, 'cannot compare the table with what Director last wrote');
      this.failed = true;
    }
  }

  private failed = false;

  private compare(began: Activity, entries: readonly ServiceEntry[], info: { changed: boolean; complete: boolean }): void {
    if (info.changed) this.dirty = true;
    if (!this.dirty) return;
    const now = this.d.journal.activity();
    if (!info.complete || began.inFlight > 0 || now.moves !== began.moves) return;
    const seen = new Map<string, ServiceEntry>();
    for (const e of entries) seen.set(keptServiceId(e), e);
    this.dirty = false;
    this.failed = false;
    this.checkedAt = Date.now();
    if (!this.expected) {
      this.expected = rulesTable(entries);
      this.absorbedUpTo = Math.max(this.absorbedUpTo, ...this.pending.map((p) => p.id));
      this.pending = [];
      this.lastSeen = seen;
      this.save();
      return;
    }
    // what to look at: services read anew, gone, written through Director, or already differing
    const last = this.lastSeen;
    const look = new Set<string>(this.changes.map((c) => c.serviceId));
    if (!last) for (const id of [...this.expected.keys(), ...seen.keys()]) look.add(id);
    else {
      for (const [id, e] of seen) if (last.get(id) !== e) look.add(id);
      for (const id of last.keys()) if (!seen.has(id)) look.add(id);
    }
    if (this.pending.length) {
      for (const { id: entry, objects } of this.pending) {
        this.absorbedUpTo = Math.max(this.absorbedUpTo, entry);
        for (const id of touchedServices(objects)) look.add(id);
        // a real server of a service not expected: the service as the write left it
        for (const id of absorbWrite(this.expected, objects)) {
          const o = seen.get(id);
          if (o) this.expected.set(id, rulesOf(o));
          else this.expected.delete(id);
        }
      }
      this.pending = [];
      this.save();
    }
    this.lastSeen = seen;
    const before = new Set(this.changes.map((c) => c.id));
    this.changes = updateOutsideChanges(this.expected, (id) => seen.get(id) ?? null, look, this.changes, this.checkedAt, () => this.nextId++);
    for (const c of this.changes) {
      if (before.has(c.id)) continue;
      this.d.log.warn({ outside: c.id, service: formatServiceKey(c.service), changes: c.changes.map(describeChange) }, 'the table was changed outside Director');
    }
  }

  /**
   * Writes the expected table soon (atomically: a torn file would read as
   * none), at most every SAVE_MS: a busy agent (health checks ramping
   * weights) does not rewrite a large table on every write.
   */
  private save(): void {
    if (!this.d.file || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.saveNow();
    }, SAVE_MS);
    this.saveTimer.unref();
  }

  private saveNow(): void {
    const file = this.d.file;
    if (!file || !this.expected) return;
    const text = JSON.stringify({ v: 1, boot: this.d.boot, journal: this.absorbedUpTo, services: [...this.expected.values()] });
    this.saving = this.saving.then(async () => {
      const tmp = `${file}.tmp`;
      try {
        await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
        const fh = await openFile(tmp, 'w', 0o600);
        try {
          await fh.writeFile(text);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, file);
      } catch (err) {
        this.d.log.error({ err, file }, 'cannot save what Director last wrote');
      }
    });
  }

  /** Writes what is due now and resolves once it is on disk (tests, shutdown). */
  flushed(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
      this.saveNow();
    }
    return this.saving;
  }

  /** Outside change `id` while the table still shows it as it was seen (under the write lock). */
  private async current(ctx: WriteCtx, id: number): Promise<{ change: OutsideChange; now: ServiceRules | null }> {
    const change = this.changes.find((c) => c.id === id);
    if (!change) throw new NotFoundError(`no outside change #${id}: it was adopted, reverted or changed again; look at the list again`);
    const sid = change.serviceId;
    if (this.pending.some((p) => touchedServices(p.objects).has(sid))) {
      throw new ConflictError(`outside change #${id}: a change through Director to ${formatServiceKey(change.service)} is being taken in; try again in a moment`);
    }
    const now = await readService(ctx.backend, change.service);
    if (!sameServiceRules(now, change.observed)) {
      throw new ConflictError(`outside change #${id}: ${formatServiceKey(change.service)} changed again since it was seen; look at it again`);
    }
    return { change, now };
  }

  /** Take outside change `id` as Director's own: journaled as made outside and adopted by the caller. */
  adopt(ctx: WriteCtx, id: number) {
    return write(ctx, async () => {
      const { change, now } = await this.current(ctx, id);
      const by = ctx.auth.actor ?? ctx.auth.tokenName;
      const actx: WriteCtx = { ...ctx, auth: { ...ctx.auth, actor: `outside (adopted by ${by})` } };
      const objects: JournalObject[] = [{ kind: 'service', key: change.service, before: change.expected, after: now }];
      const { entry } = await journaled(actx, 'outside.adopt', objects, async () => ({ objects, value: null }));
      this.changes = this.changes.filter((c) => c.id !== id);
      return { journalId: entry.id };
    });
  }

  /** Put back what Director last wrote for the service of outside change `id`, through the one writer. */
  revert(ctx: WriteCtx, id: number) {
    return write(ctx, async () => {
      const { change, now } = await this.current(ctx, id);
      const to = change.expected;
      const key = change.service;
      const { entry } = await journaled(ctx, 'outside.revert', [{ kind: 'service', key, before: now, after: to }], async () => {
        await restoreService(ctx.backend, key, to);
        return { objects: [{ kind: 'service', key, before: now, after: await readService(ctx.backend, key) }], value: null };
      }, {
        remainsOf: async () => {
          const left = await readService(ctx.backend, key);
          return sameServiceRules(left, now) ? [] : [{ kind: 'service', key, before: now, after: left }];
        },
      });
      this.changes = this.changes.filter((c) => c.id !== id);
      return { journalId: entry.id };
    });
  }
}
