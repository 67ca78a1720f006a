/**
 * The change journal: every write the agent makes, as append-only JSON lines
 * (`journal.jsonl` in the state directory). Entries are kept in memory too so
 * queries do not re-read the file; the file is the durable record.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { JournalEntry } from './journal-types';

export type { JournalEntry, JournalObject } from './journal-types';

export class Journal {
  private entries: JournalEntry[] = [];
  private nextId = 1;
  private writes: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(e: JournalEntry) => void>();

  private constructor(private readonly file: string | null) {}

  /** Open (or create) the journal in `stateDir`; null keeps it in memory only (tests). */
  static async open(stateDir: string | null): Promise<Journal> {
    if (stateDir === null) return new Journal(null);
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const file = path.join(stateDir, 'journal.jsonl');
    const j = new Journal(file);
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const e = JSON.parse(line) as JournalEntry;
        j.entries.push(e);
        j.nextId = Math.max(j.nextId, e.id + 1);
      } catch {
        // a line torn by a crash mid-append: skip it rather than refuse to start
      }
    }
    return j;
  }

  async append(entry: Omit<JournalEntry, 'id' | 'at'> & { at?: string }): Promise<JournalEntry> {
    const full: JournalEntry = { ...entry, id: this.nextId++, at: entry.at ?? new Date().toISOString() };
    this.entries.push(full);
    if (this.file) {
      const file = this.file;
      // appends are chained so lines never interleave and stay in id order
      this.writes = this.writes.then(() => appendFile(file, JSON.stringify(full) + '\n', { mode: 0o600 }));
      await this.writes;
    }
    // every completed write (API, snapshot restore, undo, health action) ends here
    for (const l of this.listeners) l(full);
    return full;
  }

  /** Be told of each entry once it is recorded (HA table replication publishes from here). Returns the unsubscribe. */
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

  /** The most recent change that can still be undone: not an undo itself, not already undone. */
  lastUndoable(): JournalEntry | null {
    const undone = new Set(this.entries.flatMap((e) => (e.undoes !== undefined ? [e.undoes] : [])));
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.undoes !== undefined || undone.has(e.id)) continue;
      if (e.objects.some((o) => o.kind !== 'counters')) return e;
    }
    return null;
  }

  get size(): number {
    return this.entries.length;
  }
}
