/**
 * director changeset [list|show|stage JSON|apply [--acknowledge] [--canary SECONDS]|discard]
 * The draft of staged edits on this director's agent (the console's Draft
 * page): list its edits, show them with the diff against the live table and
 * the verdict, stage one edit (the JSON shape of changesets.stage's `edit`),
 * apply it all or nothing as one journal entry, or discard it. The agent must
 * be running: drafts live there.
 */
import type { VerdictFinding } from '../../../lib/changeset/verdict';
import { AgentCallError, agentListening, agentMutation, agentQuery, findLocalAgent, type AgentTarget } from '../local-agent';
import type { CliIo } from '../io';

const USAGE = `usage: director changeset <list|show|stage JSON|apply [--acknowledge] [--canary SECONDS]|discard>
  list      the staged edits, one a line
  show      the edits, the diff against the live table and the verdict's findings
  stage     add one edit, e.g. '{"op":"destination.update","service":{...},"destination":{...},"patch":{"weight":0}}'
  apply     apply the draft all or nothing as one journal entry (undo it with the journal);
            --acknowledge applies a draft the verdict flags, --canary SECONDS watches the new real servers and rolls back by itself
  discard   drop every staged edit
`;

interface Preview {
  rev: number;
  edits: { id: number; text: string; by: string; at: string }[];
  diff: string;
  verdict: { findings: VerdictFinding[]; flagged: boolean };
  problem: string | null;
}

export function formatDraft(d: Preview, full: boolean): string {
  if (d.edits.length === 0) return 'The draft is empty.\n';
  const out = d.edits.map((e, i) => `${i + 1}. [#${e.id}] ${e.text}  (${e.by}, ${e.at})`);
  if (full) {
    if (d.problem) out.push('', `The draft no longer fits the live table: ${d.problem}`);
    else {
      out.push('', 'Diff against the live table:', d.diff.trimEnd(), '');
      if (d.verdict.findings.length === 0) out.push('Verdict: no findings.');
      else {
        out.push(`Verdict: ${d.verdict.flagged ? 'FLAGGED (apply needs --acknowledge)' : 'information only'}`);
        for (const f of d.verdict.findings) out.push(`  ${f.severity.toUpperCase()} ${f.rule}: ${f.title}`, `    why: ${f.why}`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}

export default async function changeset(args: string[], io: CliIo, target: AgentTarget = findLocalAgent()): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h') { io.stdout(USAGE); return sub ? 0 : 2; }
  if (!['list', 'show', 'stage', 'apply', 'discard'].includes(sub)) {
    io.stderr(`director changeset: unknown subcommand '${sub}'\n${USAGE}`);
    return 2;
  }
  if (!(await agentListening(target))) {
    io.stderr(`director changeset: no agent answers at ${target.label}; drafts live on the running agent\n`);
    return 1;
  }
  try {
    if (sub === 'list' || sub === 'show') {
      if (rest.length) { io.stderr(`director changeset ${sub}: takes no arguments\n`); return 2; }
      io.stdout(formatDraft(await agentQuery<Preview>(target, 'changesets.get', { others: null }), sub === 'show'));
      return 0;
    }
    if (sub === 'discard') {
      await agentMutation(target, 'changesets.discard', {});
      io.stdout('The draft is empty.\n');
      return 0;
    }
    if (sub === 'stage') {
      if (rest.length !== 1) { io.stderr(`director changeset stage: give one edit as JSON\n${USAGE}`); return 2; }
      let edit: unknown;
      try {
        edit = JSON.parse(rest[0]!);
      } catch (e) {
        io.stderr(`director changeset stage: the edit is not JSON: ${(e as Error).message}\n`);
        return 2;
      }
      const r = await agentMutation<{ staged: { id: number; text: string } }>(target, 'changesets.stage', { edit });
      io.stdout(`staged #${r.staged.id}: ${r.staged.text}\n`);
      return 0;
    }
    let acknowledge = false;
    let canary: number | null = null;
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === '--acknowledge') acknowledge = true;
      else if (a === '--canary' && /^\d{1,4}$/.test(rest[i + 1] ?? '')) canary = Number(rest[++i]);
      else { io.stderr(`director changeset apply: unknown option '${a}'\n${USAGE}`); return 2; }
    }
    const d = await agentQuery<Preview>(target, 'changesets.get', { others: null });
    const r = await agentMutation<{ applied: number; journalId: number; canary: { state: string } | null }>(target, 'changesets.commit', {
      rev: d.rev, acknowledge, ...(canary !== null ? { canary: { seconds: canary } } : {}),
    });
    io.stdout(`applied ${r.applied} operation(s) as journal entry #${r.journalId}${r.canary ? `; canary ${r.canary.state}` : ''}\n`);
    return 0;
  } catch (e) {
    if (e instanceof AgentCallError) {
      io.stderr(`director changeset ${sub}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
