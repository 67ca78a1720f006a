/**
 * The change journal: every write the agent makes, as JSON lines
 * (`journal.jsonl` in the state directory), write-ahead. A change is
 * recorded and fsynced as "pending" before the kernel is touched, and a
 * second small record marks it done or failed after; if the first record
 * cannot be written the change is refused and the kernel left alone. After a
 * crash a pending entry without its completion reads as "interrupted".
 *
 * Each record is one line. A line that does not parse (torn by a crash or a
 * failing disk) is skipped with a warning, and the next write after a
 * failure or a torn tail starts on a fresh line, so a torn line never
 * swallows the next one. The file rotates (journal.jsonl.1, .2, ...) past a
 * size bound; memory keeps the newest entries within a count and a byte
 * bound; an entry whose objects are too large (a restore of thousands of
 * services) keeps a summary instead.
 */
import { open as openFile, mkdir, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { DomainError } from '@/lib/errors';
import type { JournalEntry, JournalObject } from '@/lib/journal/types';
import { sameDestinationKey, sameServiceKey } from '@/lib/ipvs/ids';
import type { DestinationKey, ServiceKey } from '@/lib/ipvs/model';

export type { JournalEntry, JournalObject, JournalState } from '@/lib/journal/types';

/** The file operations the journal needs; tests inject a failing one. */
export interface JournalDisk {
  /** Appends `text` and makes it durable (fsync) before resolving. */
  append(file: string, text: string): Promise<void>;
  /** The file's text, or null when there is none. */
  read(file: string): Promise<string | null>;
  size(file: string): Promise<number>;
  /** Renames; a missing `from` is not an error. */
  rename(from: string, to: string): Promise<void>;
}

export const fsJournalDisk: JournalDisk = {
  async append(file, text) {
    const fh = await openFile(file, 'a', 0o600);
    try {
      await fh.appendFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  async read(file) {
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  },
  async size(file) {
    try {
      return (await stat(file)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
  },
  async rename(from, to) {
    try {
      await rename(from, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  },
};

export interface JournalLimits {
  /** rotate the file before it grows past this */
  fileBytes: number;
  /** rotated files kept (journal.jsonl.1 .. .N) */
  keepFiles: number;
  /** entries kept in memory */
  memoryEntries: number;
  /** serialised bytes of the entries kept in memory */
  memoryBytes: number;
  /** an entry's objects larger than this are kept as a summary */
  entryBytes: number;
}

export const DEFAULT_JOURNAL_LIMITS: JournalLimits = {
  fileBytes: 8 * 1024 * 1024,
  keepFiles: 3,
  memoryEntries: 2000,
  memoryBytes: 8 * 1024 * 1024,
  entryBytes: 1024 * 1024,
};

/** The journal cannot be written: the change is refused before the kernel is touched. */
export class JournalWriteError extends DomainError {
  override readonly name = 'JournalWriteError';
  constructor(why: string, cause?: unknown) {
    super('internal', `cannot write the journal: ${why}; nothing was changed`, { cause });
  }
}

export type JournalMeta = Pick<JournalEntry, 'role' | 'tokenName' | 'actor' | 'remote' | 'op' | 'note'> & { undoes?: number; summary?: string };

/** A change recorded as pending; finish it with done() or failed() once the kernel has answered. */
export interface PendingChange {
  readonly id: number;
  /** The change went through; `objects` are what it did. */
  done(objects: JournalObject[]): Promise<JournalEntry>;
  /** The change failed; `remains` is what it left changed (empty: the table is as before). */
  failed(error: string, remains: JournalObject[]): Promise<JournalEntry>;
}

interface EndRecord {
  end: number;
  state: 'done' | 'failed';
  at: string;
  objects: JournalObject[];
  error?: string;
  summary?: string;
}

function countObjects(objects: readonly JournalObject[]): string {
  let services = 0, destinations = 0;
  for (const o of objects) {
    if (o.kind === 'service') {
      services++;
      destinations += Math.max(o.before?.destinations.length ?? 0, o.after?.destinations.length ?? 0);
    } else if (o.kind === 'destination') destinations++;
  }
  return `${services} service(s) with ${destinations} real server(s)`;
}

export class Journal {
  private entries: JournalEntry[] = [];
  private sizes: number[] = [];
  private memBytes = 0;
  private nextId = 1;
  private writes: Promise<void> = Promise.resolve();
  private fileSize = 0;
  /** the file may end in a partial line: start the next record on a fresh one */
  private freshLine = false;
  /** completion records not yet on disk (their write failed); written before anything else */
  private backlog: string[] = [];
  private readonly listeners = new Set<(e: JournalEntry) => void>();
  /** changes begun and not finished: the kernel may be part way through one */
  private inFlight = 0;
  /** bumped when a change begins or finishes: a table read while it moved may show a write half done */
  private moves = 0;
  /** lines skipped when the journal was read */
  readonly warnings: string[] = [];
  /** the last write failure, until a write succeeds again */
  lastError: string | null = null;

  private constructor(
    private readonly file: string | null,
    private readonly disk: JournalDisk,
    private readonly limits: JournalLimits,
  ) {}

  /** Open (or create) the journal in `stateDir`; null keeps it in memory only (tests). */
  static async open(stateDir: string | null, opts: { disk?: JournalDisk; limits?: Partial<JournalLimits> } = {}): Promise<Journal> {
    const disk = opts.disk ?? fsJournalDisk;
    const limits = { ...DEFAULT_JOURNAL_LIMITS, ...opts.limits };
    if (stateDir === null) return new Journal(null, disk, limits);
    if (!opts.disk) await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const file = path.join(stateDir, 'journal.jsonl');
    const j = new Journal(file, disk, limits);
    const byId = new Map<number, JournalEntry>();
    const loaded: JournalEntry[] = [];
    for (const f of [`${file}.1`, file]) {
      const text = await disk.read(f);
      if (text === null) continue;
      if (f === file) {
        j.fileSize = await disk.size(file);
        j.freshLine = text.length > 0 && !text.endsWith('\n');
      }
      text.split('\n').forEach((line, i) => {
        if (line.trim() === '') return;
        let rec: unknown;
        try {
          rec = JSON.parse(line);
        } catch {
          j.warnings.push(`${f}:${i + 1}: skipped a line that does not parse (torn by a crash or a failing disk)`);
          return;
        }
        if (typeof rec !== 'object' || rec === null) return;
        if (typeof (rec as EndRecord).end === 'number') {
          const end = rec as EndRecord;
          const e = byId.get(end.end);
          if (!e) return;
          e.state = end.state;
          e.objects = end.objects ?? [];
          if (end.error !== undefined) e.error = end.error;
          if (end.summary !== undefined) e.summary = end.summary;
          else delete e.summary;
          return;
        }
        const e = rec as JournalEntry;
        if (typeof e.id !== 'number' || !Array.isArray(e.objects)) return;
        byId.set(e.id, e);
        loaded.push(e);
        j.nextId = Math.max(j.nextId, e.id + 1);
      });
    }
    for (const e of loaded) {
      if (e.state === 'pending') e.state = 'interrupted';
      j.keep(e);
    }
    return j;
  }

  /**
   * Records a change before it is made (fsynced). Throws JournalWriteError,
   * and nothing may be changed, when the journal cannot be written.
   */
  async begin(meta: JournalMeta, planned: JournalObject[] = []): Promise<PendingChange> {
    const entry: JournalEntry = {
      id: this.nextId++, at: new Date().toISOString(), role: meta.role, tokenName: meta.tokenName,
      ...(meta.actor !== undefined ? { actor: meta.actor } : {}), remote: meta.remote, op: meta.op,
      ...(meta.undoes !== undefined ? { undoes: meta.undoes } : {}), ...(meta.note !== undefined ? { note: meta.note } : {}),
      objects: [], state: 'pending',
    };
    // the pending record says what is about to happen: the planned objects, or the caller's summary of them
    const plannedKept = this.bounded(planned, meta.summary);
    if (meta.summary !== undefined && !plannedKept.summary) plannedKept.summary = meta.summary;
    Object.assign(entry, plannedKept);
    try {
      await this.write(JSON.stringify(entry));
    } catch (e) {
      throw new JournalWriteError((e as Error).message ?? String(e), e);
    }
    this.keep(entry);
    this.inFlight++;
    this.moves++;
    let finished = false;
    const finish = async (state: 'done' | 'failed', objects: JournalObject[], error?: string): Promise<JournalEntry> => {
      if (finished) throw new Error(`journal entry #${entry.id} is already finished`);
      finished = true;
      try {
        return await finishing(state, objects, error);
      } finally {
        // after the listeners: the outside-change watch has taken in what the write left
        this.inFlight--;
        this.moves++;
      }
    };
    const finishing = async (state: 'done' | 'failed', objects: JournalObject[], error?: string): Promise<JournalEntry> => {
      const full: JournalEntry = { ...entry, state, objects, ...(error !== undefined ? { error } : {}) };
      delete full.summary;
      // a finished entry has a summary only when its objects were too large to keep
      const kept = this.bounded(objects, meta.summary);
      entry.state = state;
      entry.objects = kept.objects;
      if (kept.summary !== undefined) entry.summary = kept.summary;
      else delete entry.summary;
      if (error !== undefined) entry.error = error;
      this.resize(entry);
      const end: EndRecord = { end: entry.id, state, at: new Date().toISOString(), ...kept, ...(error !== undefined ? { error } : {}) };
      // the kernel has already changed: a failed write is kept and retried before the next change, never thrown
      await this.write(JSON.stringify(end), true).catch(() => undefined);
      if (state === 'done' || objects.length > 0) for (const l of this.listeners) l(full);
      return entry;
    };
    return {
      id: entry.id,
      done: (objects) => finish('done', objects),
      failed: (error, remains) => finish('failed', remains, error),
    };
  }

  /**
   * Records a change and its outcome around `change`, write-ahead: nothing
   * runs if the journal cannot be written. `change` returns what it did; when
   * it throws, `remainsOf(error)` says what it left changed (default none).
   */
  async record<T>(
    meta: JournalMeta, planned: JournalObject[], change: () => Promise<{ objects: JournalObject[]; value: T }>,
    remainsOf: (e: unknown) => Promise<JournalObject[]> | JournalObject[] = () => [],
  ): Promise<{ entry: JournalEntry; value: T }> {
    const p = await this.begin(meta, planned);
    let r: { objects: JournalObject[]; value: T };
    try {
      r = await change();
    } catch (e) {
      let remains: JournalObject[] = [];
      try {
        remains = await remainsOf(e);
      } catch {
        // what remains could not be read: the entry says failed with nothing known changed
      }
      await p.failed((e as Error)?.message ?? String(e), remains);
      throw e;
    }
    return { entry: await p.done(r.objects), value: r.value };
  }

  /** Records a change already made (not write-ahead; for callers that cannot record first). */
  async append(entry: Omit<JournalEntry, 'id' | 'at'> & { at?: string }): Promise<JournalEntry> {
    const full: JournalEntry = { ...entry, id: this.nextId++, at: entry.at ?? new Date().toISOString() };
    const kept: JournalEntry = { ...full, ...this.bounded(full.objects) };
    if (this.file) await this.write(JSON.stringify(kept));
    this.keep(kept);
    this.moves++;
    for (const l of this.listeners) l(full);
    return kept;
  }

  /** Objects as kept: whole, or a summary when they are too large. */
  private bounded(objects: JournalObject[], summary?: string): { objects: JournalObject[]; summary?: string } {
    const bytes = JSON.stringify(objects).length;
    if (bytes <= this.limits.entryBytes) return { objects };
    return { objects: [], summary: `${summary ? `${summary}: ` : ''}${countObjects(objects)}, ${bytes} bytes: too large to keep for undo` };
  }

  /**
   * One line on disk, after any backlog, on a fresh line when the file may
   * end in a partial one. Writes run one at a time; a failure is the caller's
   * and leaves the chain usable, so the journal recovers when the disk does.
   */
  private write(line: string, keepOnFailure = false): Promise<void> {
    if (!this.file) return Promise.resolve();
    const file = this.file;
    const run = this.writes.then(async () => {
      const text = [...this.backlog, line].join('\n') + '\n';
      const data = (this.freshLine ? '\n' : '') + text;
      if (this.fileSize > 0 && this.fileSize + data.length > this.limits.fileBytes) await this.rotate(file);
      try {
        await this.disk.append(file, data);
      } catch (e) {
        // part of the data may be on disk: what follows starts on a new line
        this.freshLine = true;
        this.lastError = (e as Error).message ?? String(e);
        if (keepOnFailure) this.backlog.push(line);
        throw e;
      }
      this.fileSize += Buffer.byteLength(data);
      this.freshLine = false;
      this.backlog = [];
      this.lastError = null;
    });
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async rotate(file: string): Promise<void> {
    for (let k = this.limits.keepFiles - 1; k >= 1; k--) await this.disk.rename(`${file}.${k}`, `${file}.${k + 1}`);
    await this.disk.rename(file, `${file}.1`);
    this.fileSize = 0;
    this.freshLine = false;
  }

  private keep(e: JournalEntry): void {
    const size = JSON.stringify(e).length;
    this.entries.push(e);
    this.sizes.push(size);
    this.memBytes += size;
    this.trim();
  }

  private resize(e: JournalEntry): void {
    const i = this.entries.lastIndexOf(e);
    if (i < 0) return;
    const size = JSON.stringify(e).length;
    this.memBytes += size - this.sizes[i]!;
    this.sizes[i] = size;
    this.trim();
  }

  private trim(): void {
    let drop = 0;
    let bytes = this.memBytes;
    while (this.entries.length - drop > 1
      && (this.entries.length - drop > this.limits.memoryEntries || bytes > this.limits.memoryBytes)) {
      bytes -= this.sizes[drop]!;
      drop++;
    }
    if (drop === 0) return;
    this.entries.splice(0, drop);
    this.sizes.splice(0, drop);
    this.memBytes = bytes;
  }

  /**
   * Where writes stand: changes in flight, and a count that moves whenever
   * one begins or finishes. A table read that began with none in flight and
   * saw the count unchanged when it ended holds no half-made Director write.
   */
  activity(): { inFlight: number; moves: number } {
    return { inFlight: this.inFlight, moves: this.moves };
  }

  /** Be told of each change once it is recorded as made (HA table replication publishes from here). Returns the unsubscribe. */
  onAppend(fn: (e: JournalEntry) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Newest first. */
  list(opts: { limit: number; before?: number }): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < opts.limit; i--) {
      const e = this.entries[i]!;
      if (opts.before === undefined || e.id < opts.before) out.push(e);
    }
    return out;
  }

  /**
   * The weight a real server had before it was drained, when the newest
   * change to it is that drain (done): what Restore puts back. Null when it
   * was not drained through Director, or changed since.
   */
  weightBeforeDrain(service: ServiceKey, dest: DestinationKey): number | null {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if ((e.state ?? 'done') !== 'done') continue;
      const o = e.objects.find((x) => x.kind === 'destination' && sameServiceKey(x.service, service) && sameDestinationKey((x.after ?? x.before)!, dest));
      if (!o || o.kind !== 'destination') continue;
      return e.op === 'destinations.drain' && o.before && o.before.weight > 0 && o.after?.weight === 0 ? o.before.weight : null;
    }
    return null;
  }

  /**
   * Entry `id` and why it cannot be undone, if it cannot: in progress or
   * interrupted, already undone (by which entry), or nothing to revert. Null
   * entry: the agent no longer holds it (or never had it).
   */
  undoableEntry(id: number): { entry: JournalEntry | null; why: string | null } {
    const entry = this.entries.find((e) => e.id === id) ?? null;
    if (!entry) return { entry: null, why: `change #${id} is not in the journal the agent holds` };
    const by = this.entries.find((e) => e.undoes === id && (e.state ?? 'done') === 'done');
    if (by) return { entry, why: `change #${id} was already undone by #${by.id}` };
    if (entry.state === 'pending') return { entry, why: `change #${id} is still in progress` };
    if (entry.state === 'interrupted') return { entry, why: `change #${id} was interrupted: the kernel may or may not have it; restore a saved snapshot instead` };
    if (entry.summary === undefined && !entry.objects.some((o) => o.kind !== 'counters')) {
      return { entry, why: `change #${id} changed nothing that can be put back (zeroed counters cannot be restored)` };
    }
    return { entry, why: null };
  }

  /**
   * The most recent change that can still be undone: not an undo itself, not
   * already undone, that changed something (a failed change counts for what
   * it left). A change kept only as a summary is returned too, so undo can
   * say why it cannot go back past it rather than undo an older one.
   */
  lastUndoable(): JournalEntry | null {
    // an undo that failed or was interrupted did not undo its target
    const undone = new Set(this.entries.flatMap((e) => (e.undoes !== undefined && (e.state ?? 'done') === 'done' ? [e.undoes] : [])));
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.undoes !== undefined || undone.has(e.id)) continue;
      if (e.state === 'pending' || e.state === 'interrupted') continue;
      if (e.summary !== undefined && e.objects.length === 0) return e;
      if (e.objects.some((o) => o.kind !== 'counters')) return e;
    }
    return null;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Serialised bytes of the entries held in memory. */
  get memoryBytes(): number {
    return this.memBytes;
  }
}
