/** How a plan step reads in the diff view: added, removed or changed. */
export type StepKind = 'add' | 'remove' | 'change';

export function stepKind(step: string): StepKind {
  const s = step.trimStart();
  if (/^(\+|add|create|new)\b/i.test(s) || s.startsWith('+')) return 'add';
  if (/^(-|remove|delete|del)\b/i.test(s) || s.startsWith('-')) return 'remove';
  return 'change';
}

/** "line 7: ..." or "line 7, column 3: ..." in an error message → 7. */
export function failingLine(message: string): number | null {
  const m = /\bline (\d+)\b/i.exec(message);
  return m ? Number(m[1]) : null;
}

/**
 * Messages of a failed plan/restore: the agent reports parse problems as zod
 * issues on `text` ("line 3:12: ..."), kernel refusals as one message naming
 * the line; show each.
 */
export function importErrorMessages(err: unknown): string[] {
  const e = err as { message?: string; data?: { zodError?: { issues?: Array<{ message: string }> } | null } };
  const issues = e?.data?.zodError?.issues;
  if (issues && issues.length) return issues.map((i) => i.message);
  return [e?.message ?? String(err)];
}
