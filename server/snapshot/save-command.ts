/**
 * `director save [--json] [--no-thresholds]`: the live table in
 * `ipvsadm -Sn` format (plus -x/-y for thresholds, which ipvsadm loses), or
 * as a versioned JSON snapshot.
 */
import type { CliIo } from '../cli/io';
import { formatSnapshot } from '@/lib/snapshot/format';
import { makeSnapshot, stringifySnapshot } from '@/lib/snapshot/json';
import { defaultDeps, type SnapshotCliDeps } from './cli-deps';

const USAGE = 'usage: director save [--json] [--no-thresholds]\n';

export async function saveCommand(args: string[], io: CliIo, deps: SnapshotCliDeps = defaultDeps): Promise<number> {
  let json = false;
  let thresholds = true;
  for (const a of args) {
    if (a === '--json') json = true;
    else if (a === '--no-thresholds') thresholds = false;
    else if (a === '-n' || a === '--numeric') continue; // always numeric; accepted for ipvsadm habits
    else if (a === '-h' || a === '--help') { io.stdout(USAGE); return 0; }
    else { io.stderr(`director save: unknown argument '${a}'\n${USAGE}`); return 2; }
  }
  const backend = await deps.openBackend();
  try {
    // dump() keeps the kernel's order, which ipvsadm's sort needs to come out identical
    const table = await backend.dump();
    if (json) {
      const info = await backend.info();
      io.stdout(stringifySnapshot(makeSnapshot(table, { host: deps.hostname(), ipvsVersion: info.version, now: deps.now() })));
    } else {
      io.stdout(formatSnapshot(table, { thresholds }));
    }
    return 0;
  } finally {
    backend.close();
  }
}
