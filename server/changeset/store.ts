/**
 * The draft of this director: form edits staged to be applied together.
 * One per agent (an agent is one director), shared by its operators, each
 * edit saying who staged it. In memory: an agent restart drops the draft,
 * never the table. Bounded in edits and bytes; every revision bumps `rev`,
 * so an apply names the draft it was shown and a draft changed meanwhile is
 * refused instead of applied unseen.
 */
import { InputError, NotFoundError } from '@/lib/errors';
import { describeEdit, MAX_DRAFT_BYTES, MAX_EDITS, type ChangeEdit } from '@/lib/changeset/edits';

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

  constructor(private readonly limits = { edits: MAX_EDITS, bytes: MAX_DRAFT_BYTES }) {}

  get(): Draft {
    return { rev: this.revision, edits: [...this.edits] };
  }

  get rev(): number {
    return this.revision;
  }

  /**
   * Adds `edit` once `check` accepts the draft with it (it throws to refuse:
   * an edit that does not fit the table); over a bound, or refused, the draft
   * is left as it was.
   */
  stage(edit: ChangeEdit, by: string, check: (edits: ChangeEdit[]) => void): StagedEdit {
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
  }

  /** Drops staged edit `id`; `check` must accept what is left (a later edit may need it). */
  unstage(id: number, check: (edits: ChangeEdit[]) => void): void {
    const rest = this.edits.filter((e) => e.id !== id);
    if (rest.length === this.edits.length) throw new NotFoundError(`edit #${id} is not in the draft`);
    check(rest.map((s) => s.edit));
    this.edits = rest;
    this.revision++;
  }

  clear(): void {
    if (this.edits.length === 0) return;
    this.edits = [];
    this.revision++;
  }
}
