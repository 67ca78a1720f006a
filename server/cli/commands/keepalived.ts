/**
 * `director keepalived import [--dry-run] [--state-dir DIR] FILE` and
 * `director keepalived export [--state-dir DIR]`.
 *
 * Import: the whole file (with its includes) must parse without errors, or
 * nothing happens; then the table is applied all-or-nothing (merge: only the
 * file's services change) and the checks are written to the agent's state
 * directory, where a running agent picks them up within seconds.
 * Export: the live table plus the stored checks, as keepalived.conf.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { serviceId } from '@/lib/ipvs/ids';
import { formatKeepalived, KeepalivedExportError } from '@/lib/keepalived/format';
import { LIMITS } from '@/lib/keepalived/lex';
import { parseKeepalived, type IncludeReader } from '@/lib/keepalived/parse';
import { DEFAULT_CHECKS_DIR, type HealthServiceConfig } from '@/lib/schemas/health';
import { renderPlan } from '@/lib/snapshot/plan';
import { toRules } from '@/lib/snapshot/json';
import { HEALTH_FILE, readHealthFile, writeHealthFile } from '../../health/store';
import { RestoreFailedError, SnapshotInvalidError, restoreTable } from '../../snapshot/apply';
import { defaultDeps, type SnapshotCliDeps } from '../../snapshot/cli-deps';
import type { CliIo } from '../io';
import { stateOwner, type Owner } from '../state-owner';

const USAGE = `usage: director keepalived import [--dry-run] [--state-dir DIR] [--checks-dir DIR] FILE
       director keepalived export [--state-dir DIR] [--checks-dir DIR]
  --state-dir   the agent's state directory, where checks are stored (default $DIRECTOR_STATE_DIR or /var/lib/director)
  --checks-dir  the agent's folder of misc-check scripts: misc_path must name a script there
                (default ${DEFAULT_CHECKS_DIR})
`;

/** A file an include names, read only if it is a regular file inside `root` once symbolic links are resolved. */
function confined(file: string, root: string): string {
  const real = realpathSync(file);
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw new Error(`${file} is outside the configuration's folder ${root}: includes must stay inside it`);
  }
  return real;
}

function readConfined(file: string, root: string): { file: string; text: string } {
  const real = confined(file, root);
  const st = statSync(real);
  if (!st.isFile()) throw new Error(`${file} is not a regular file`);
  if (st.size > LIMITS.totalBytes) throw new Error(`${file} is over ${LIMITS.totalBytes / 1024 / 1024} MiB`);
  return { file: real, text: readFileSync(real, 'utf8') };
}

/**
 * keepalived's include: relative to the including file; '*' and '?' in the
 * file name part. Confined to the folder of the configuration's own file
 * (`../` and absolute paths that leave it are refused), so an imported file
 * cannot make the agent's importer read anything else on the director.
 */
export const fsIncludeReader: IncludeReader = (pattern, from, main) => {
  const root = realpathSync(path.dirname(path.resolve(main)));
  const full = path.resolve(path.dirname(from), pattern);
  const base = path.basename(full);
  if (!/[*?[]/.test(base)) return [readConfined(full, root)];
  const dir = confined(path.dirname(full), root);
  const re = new RegExp(`^${base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => readConfined(path.join(dir, f), root));
};

export interface KeepalivedDeps extends SnapshotCliDeps {
  include: IncludeReader;
}

export async function keepalivedCommand(args: string[], io: CliIo, deps: KeepalivedDeps = { ...defaultDeps, include: fsIncludeReader }): Promise<number> {
  const [sub, ...rest] = args;
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: rest,
      options: {
        'dry-run': { type: 'boolean', short: 'n' }, 'state-dir': { type: 'string' }, 'checks-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    io.stderr(`director keepalived: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help || sub === '-h' || sub === '--help') {
    io.stdout(USAGE);
    return 0;
  }
  const stateDir = values['state-dir'] ?? process.env.DIRECTOR_STATE_DIR ?? '/var/lib/director';
  const healthFile = path.join(stateDir, HEALTH_FILE);
  const checksDir = values['checks-dir'] ?? DEFAULT_CHECKS_DIR;

  if (sub === 'export') {
    if (positionals.length) {
      io.stderr(`director keepalived export: no arguments expected\n${USAGE}`);
      return 2;
    }
    const backend = await deps.openBackend();
    try {
      const table = toRules(await backend.dump());
      const health = await readHealthFile(healthFile);
      let out;
      try {
        out = formatKeepalived(table, health, {
          header: `keepalived.conf exported by Director from ${deps.hostname()} at ${deps.now().toISOString()}`, checksDir,
        });
      } catch (e) {
        if (!(e instanceof KeepalivedExportError)) throw e;
        io.stderr(`director keepalived export: ${e.message}\n`);
        return 1;
      }
      io.stdout(out.text);
      for (const s of out.skipped) io.stderr(`director keepalived export: skipped ${s}\n`);
      return 0;
    } finally {
      backend.close();
    }
  }

  if (sub !== 'import') {
    io.stderr(`director keepalived: expected import or export\n${USAGE}`);
    return 2;
  }
  if (positionals.length !== 1) {
    io.stderr(`director keepalived import: one FILE expected\n${USAGE}`);
    return 2;
  }
  const file = positionals[0]!;
  let text: string;
  try {
    // a FIFO or /dev/zero would hang or fill the importer: a regular file within the include budget only
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > LIMITS.totalBytes) throw new Error(`over ${LIMITS.totalBytes / 1024 / 1024} MiB`);
    text = await deps.readFile(file);
  } catch (e) {
    io.stderr(`${file}: cannot read: ${(e as Error).message}; nothing was changed\n`);
    return 1;
  }
  const parsed = parseKeepalived(text, { file, include: deps.include, checksDir });
  for (const n of parsed.notes) io.stderr(`${n.file}:${n.line}: note: ${n.message}\n`);
  for (const w of parsed.warnings) io.stderr(`${w.file}:${w.line}: warning: ${w.message}\n`);
  if (parsed.errors.length > 0) {
    for (const e of parsed.errors) io.stderr(`${e.file}:${e.line}: ${e.message}\n`);
    io.stderr(`${file}: ${parsed.errors.length} error(s); nothing was changed\n`);
    return 1;
  }
  // read the stored checks before touching the kernel: a broken state file must stop the import
  let stored: HealthServiceConfig[];
  let owner: Owner | null;
  try {
    stored = await readHealthFile(healthFile);
    owner = await stateOwner(stateDir);
  } catch (e) {
    io.stderr(`director keepalived import: ${(e as Error).message}; nothing was changed\n`);
    return 1;
  }
  const backend = await deps.openBackend();
  try {
    const dryRun = values['dry-run'] === true;
    const result = await restoreTable(backend, parsed.services, { mode: 'merge', dryRun });
    const imported = new Set(parsed.services.map((s) => serviceId(s.key)));
    const merged = [...stored.filter((h) => !imported.has(serviceId(h.service))), ...parsed.health];
    if (dryRun) {
      io.stdout(renderPlan(result.ops, file));
      io.stdout(`checks: ${parsed.health.length} service(s) with checks would be written to ${healthFile}\n`);
      return 0;
    }
    // imported services' checks replace what was stored for them (none in the file = none kept)
    // run as root, the file must still be readable by the agent's user
    await writeHealthFile(healthFile, merged, { owner });
    io.stdout(`imported ${file}: ${parsed.services.length} service(s), ${result.applied} operation(s) applied; `
      + `checks for ${parsed.health.length} service(s) in ${healthFile}\n`);
    return 0;
  } catch (e) {
    if (e instanceof RestoreFailedError) {
      io.stderr(`${file}: ${e.message}\n`);
      return e.rollbackErrors.length === 0 ? 1 : 3;
    }
    if (e instanceof SnapshotInvalidError) {
      for (const i of e.issues) io.stderr(`${file}: ${i.path ? `${i.path}: ` : ''}${i.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    backend.close();
  }
}

export default function keepalived(args: string[], io: CliIo): Promise<number> {
  return keepalivedCommand(args, io);
}

