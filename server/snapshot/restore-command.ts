/**
 * `director restore [--replace] [--dry-run] [--json] [FILE|-]`: load an
 * ipvsadm-format (or Director JSON) snapshot all-or-nothing. Every problem
 * prints as `FILE:LINE: message`; nothing reaches the kernel unless the
 * whole file is valid, and a kernel refusal undoes what was applied.
 */
import type { CliIo } from '../cli/io';
import { readSnapshotJson } from '@/lib/snapshot/json';
import { parseSnapshot } from '@/lib/snapshot/parse';
import { renderPlan, type PlanMode } from '@/lib/snapshot/plan';
import type { ServiceRules } from '@/lib/ipvs/model';
import { RestoreFailedError, SnapshotInvalidError, restoreTable } from './apply';
import { defaultDeps, type SnapshotCliDeps } from './cli-deps';

const USAGE = 'usage: director restore [--replace] [--dry-run] [--json] [FILE|-]\n';

export async function restoreCommand(args: string[], io: CliIo, deps: SnapshotCliDeps = defaultDeps): Promise<number> {
  let mode: PlanMode = 'merge';
  let dryRun = false;
  let json = false;
  let file: string | undefined;
  for (const a of args) {
    if (a === '--replace') mode = 'replace';
    else if (a === '--dry-run' || a === '-n') dryRun = true;
    else if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') { io.stdout(USAGE); return 0; }
    else if (a.startsWith('-') && a !== '-') { io.stderr(`director restore: unknown option '${a}'\n${USAGE}`); return 2; }
    else if (file !== undefined) { io.stderr(`director restore: one file at most\n${USAGE}`); return 2; }
    else file = a;
  }
  const src = file === undefined || file === '-' ? '<stdin>' : file;
  let text: string;
  try {
    text = file === undefined || file === '-' ? await io.readStdin() : await deps.readFile(file);
  } catch (e) {
    io.stderr(`${src}: cannot read: ${(e as Error).message}\n`);
    return 1;
  }

  let desired: ServiceRules[];
  let lines: { service: number; destinations: number[] }[] | undefined;
  if (json) {
    const r = readSnapshotJson(text);
    if (!r.ok) {
      for (const e of r.errors) io.stderr(`${src}: ${e.path ? `${e.path}: ` : ''}${e.message}\n`);
      return 1;
    }
    desired = r.snapshot.services;
  } else {
    const parsed = await parseSnapshot(text, { resolver: deps.resolver });
    if (parsed.errors.length > 0) {
      for (const e of parsed.errors) io.stderr(`${src}:${e.line}: ${e.message}\n`);
      io.stderr(`${src}: ${parsed.errors.length} error(s); nothing was changed\n`);
      return 1;
    }
    desired = parsed.services;
    lines = parsed.lines;
  }

  const backend = await deps.openBackend();
  try {
    const result = await restoreTable(backend, desired, { mode, dryRun, lines });
    if (dryRun) {
      io.stdout(renderPlan(result.ops, src));
    } else if (result.ops.length === 0) {
      io.stdout('no changes: the table already matches\n');
    } else {
      io.stdout(`restored ${src}: ${result.applied} operation(s) applied (${mode})\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof RestoreFailedError) {
      io.stderr(`${src}:${e.line ?? '-'}: ${e.message.replace(/^line \d+: /, '')}\n`);
      return e.rollbackErrors.length === 0 ? 1 : 3;
    }
    if (e instanceof SnapshotInvalidError) {
      for (const i of e.issues) io.stderr(`${src}: ${i.path ? `${i.path}: ` : ''}${i.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    backend.close();
  }
}
