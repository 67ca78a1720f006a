/**
 * The draft of this director: form edits staged to be applied together.
 * One per agent (an agent is one director), shared by its operators, each
 * edit saying who staged it. Bounded in edits and bytes; every revision bumps
 * `rev`, so an apply names the draft it was shown and a draft changed
 * meanwhile is refused instead of applied unseen.
 *
 * With a state folder the draft survives an agent restart: every change is
 * written (temporary file, fsync, rename; mode 0600) before it is answered,
 * and a change that cannot be written is not made. At start a file that is
 * not one this agent would write (a link, someone else's, writable by
 * others, too large, not the format, an edit that is not an edit) is refused
 * with the reason in the log and `refused`, and the draft starts empty.
 */
import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DomainError, InputError, NotFoundError } from '@/lib/errors';
import { changeEditSchema, describeEdit, MAX_DRAFT_BYTES, MAX_EDITS, type ChangeEdit } from '@/lib/changeset/edits';
import { Mutex } from '../table/mutex';

export const DRAFT_FILE = 'draft.json';
/** the edits' bytes plus the file's own fields, with room */
export const MAX_DRAFT_FILE_BYTES = MAX_DRAFT_BYTES + 64 * 1024;

/** The draft could not be written to the state folder: the change was not made. */
export class DraftKeepError extends DomainError {
  override readonly name = 'DraftKeepError';
  constructor(why: string, cause?: unknown) {
    super('internal', `cannot keep the draft in the state folder (${why}); the draft was not changed`, { cause });
  }
}

const fileSchema = z.object({
  version: z.literal(1),
  rev: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  nextId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  edits: z.array(z.object({
    id: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    edit: changeEditSchema,
    by: z.string().min(1).max(256),
    at: z.iso.datetime(),
  }).strict()).max(MAX_EDITS),
}).strict();

export interface StagedEdit {
  id: number;
  edit: ChangeEdit;
  /** the console user (or token) who staged it */
  by: string;
  at: string;
  /** one line, as the draft lists it */
  text: string;
}

export interface Draft {
  rev: number;
  edits: StagedEdit[];
}

export class DraftStore {
  private edits: StagedEdit[] = [];
  private nextId = 1;
  private revision = 0;
  private readonly lock = new Mutex();
  /** why the file found at start was refused (null: none, or it was read) */
  refused: string | null = null;

  constructor(private readonly limits = { edits: MAX_EDITS, bytes: MAX_DRAFT_BYTES }, private readonly file: string | null = null) {}

  /** The draft kept in `stateDir` (null: in memory only), as the agent last wrote it. */
  static async open(o: { stateDir: string | null; log: Logger; limits?: { edits: number; bytes: number } }): Promise<DraftStore> {
    const s = new DraftStore(o.limits, o.stateDir ? path.join(o.stateDir, DRAFT_FILE) : null);
    if (s.file) {
      try {
        await s.load(s.file);
        if (s.edits.length) o.log.info({ file: s.file, edits: s.edits.length }, 'draft restored');
      } catch (e) {
        s.refused = (e as Error).message;
        s.edits = [];
        s.nextId = 1;
        s.revision = 0;
        o.log.warn({ file: s.file }, `draft file refused (${s.refused}): starting with an empty draft`);
      }
    }
    return s;
  }

  get(): Draft {
    return { rev: this.revision, edits: [...this.edits] };
  }

  get rev(): number {
    return this.revision;
  }

  /**
   * Adds `edit` once `check` accepts the draft with it (it throws to refuse:
   * an edit that does not fit the table); over a bound, refused, or not
   * written, the draft is left as it was.
   */
  stage(edit: ChangeEdit, by: string, check: (edits: ChangeEdit[]) => void): Promise<StagedEdit> {
    return this.change(() => {
      if (this.edits.length >= this.limits.edits) {
        throw new InputError([{ code: 'too_big', path: ['edit'], message: `the draft holds at most ${this.limits.edits} edits: apply or discard it first` }]);
      }
      const staged: StagedEdit = { id: this.nextId, edit, by, at: new Date().toISOString(), text: describeEdit(edit) };
      const next = [...this.edits, staged];
      const bytes = JSON.stringify(next).length;
      if (bytes > this.limits.bytes) {
        throw new InputError([{ code: 'too_big', path: ['edit'], message: `the draft would be ${bytes} bytes, more than the ${this.limits.bytes} it may hold: apply or discard it first` }]);
      }
      check(next.map((s) => s.edit));
      this.nextId++;
      this.edits = next;
      this.revision++;
      return staged;
    });
  }

  /** Drops staged edit `id`; `check` must accept what is left (a later edit may need it). */
  unstage(id: number, check: (edits: ChangeEdit[]) => void): Promise<void> {
    return this.change(() => {
      const rest = this.edits.filter((e) => e.id !== id);
      if (rest.length === this.edits.length) throw new NotFoundError(`edit #${id} is not in the draft`);
      check(rest.map((s) => s.edit));
      this.edits = rest;
      this.revision++;
    });
  }

  /**
   * Empties the draft. `applied`: its edits are in the kernel now, so it is
   * emptied in memory even when the file cannot be written (the error is
   * still thrown, for the log).
   */
  clear(opts: { applied?: boolean } = {}): Promise<void> {
    return this.change(() => {
      if (this.edits.length === 0) return;
      this.edits = [];
      this.revision++;
    }, opts.applied === true);
  }

  /** Runs `mutate` and writes the result, one change at a time; a failed write undoes the change unless `keep`. */
  private change<T>(mutate: () => T, keep = false): Promise<T> {
    return this.lock.run(async () => {
      const was = { edits: this.edits, nextId: this.nextId, revision: this.revision };
      const out = mutate();
      if (this.file && this.revision !== was.revision) {
        try {
          await this.save(this.file);
        } catch (e) {
          if (!keep) Object.assign(this, { edits: was.edits, nextId: was.nextId, revision: was.revision });
          throw e instanceof DraftKeepError ? e : new DraftKeepError((e as Error).message, e);
        }
      }
      return out;
    });
  }

  private async save(file: string): Promise<void> {
    const body = JSON.stringify({
      version: 1, rev: this.revision, nextId: this.nextId,
      edits: this.edits.map((e) => ({ id: e.id, edit: e.edit, by: e.by, at: e.at })),
    });
    const tmp = `${file}.tmp`;
    await unlink(tmp).catch(() => {});
    // 'wx': never through a link someone left at the temporary name
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  }

  /** Reads the file (absent: an empty draft); throws with the reason to refuse it. */
  private async load(file: string): Promise<void> {
    let fh;
    try {
      // O_NOFOLLOW: a link at the draft's name is refused, not followed
      fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      throw new Error(code === 'ELOOP' ? 'a symbolic link' : (e as Error).message);
    }
    let text: string;
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new Error('not a regular file');
      const uid = process.getuid?.();
      if (uid !== undefined && st.uid !== uid) throw new Error(`owned by uid ${st.uid}, not the agent's ${uid}`);
      if ((st.mode & 0o022) !== 0) throw new Error(`writable by others (mode ${(st.mode & 0o777).toString(8)})`);
      if (st.size > MAX_DRAFT_FILE_BYTES) throw new Error(`${st.size} bytes, more than the ${MAX_DRAFT_FILE_BYTES} a draft file can hold`);
      const buf = Buffer.alloc(MAX_DRAFT_FILE_BYTES + 1);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      if (bytesRead > MAX_DRAFT_FILE_BYTES) throw new Error(`more than the ${MAX_DRAFT_FILE_BYTES} bytes a draft file can hold`);
      text = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`not JSON: ${(e as Error).message}`);
    }
    const r = fileSchema.safeParse(json);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new Error(`${i.path.length ? i.path.join('.') : 'the file'}: ${i.message}`);
    }
    const ids = new Set<number>();
    for (const [n, e] of r.data.edits.entries()) {
      if (ids.has(e.id) || e.id >= r.data.nextId) throw new Error(`edits.${n}.id: ${e.id} is repeated or not below nextId ${r.data.nextId}`);
      ids.add(e.id);
    }
    // the text is the agent's own words for the edit, never the file's
    const edits = r.data.edits.map((e) => ({ id: e.id, edit: e.edit, by: e.by, at: e.at, text: describeEdit(e.edit) }));
    const bytes = JSON.stringify(edits).length;
    if (edits.length > this.limits.edits || bytes > this.limits.bytes) throw new Error(`more than a draft may hold (${edits.length} edits, ${bytes} bytes)`);
    this.edits = edits;
    this.nextId = r.data.nextId;
    this.revision = r.data.rev;
  }
}
