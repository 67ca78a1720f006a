/**
 * `director save [--json] [--no-thresholds]`: the live table in
 * `ipvsadm -Sn` format (plus -x/-y for thresholds, which ipvsadm loses), or
 * as a versioned JSON snapshot.
 */
import { stdoutBytes, type CliIo } from '../cli/io';
import { formatSnapshot } from '@/lib/snapshot/format';
import { makeSnapshot, stringifySnapshot } from '@/lib/snapshot/json-write';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { DestinationState } from '@/lib/ipvs/model';
import { printProcListing, printsFromRows, specOf, type ProcListingTable } from '@/lib/proc/ip-vs-listing';
import { listStructure } from '../ipvs/fast-list';
import { defaultDeps, type SnapshotCliDeps } from './cli-deps';

/**
 * The table for the plain text without thresholds, which is exactly what
 * `ipvsadm -Sn` prints: /proc/net/ip_vs and one service dump carry all of
 * it except tunnel settings, so only services with a tunnel real server get
 * their own GET_DEST dump (in the lab kernel, 10,000 of those dumps are
 * most of the time of a full dump). Null when the fast read does not apply
 * (no /proc here, or the two reads disagree): the caller dumps instead.
 */
async function saveStructure(backend: IpvsBackend): Promise<ProcListingTable | null> {
  const table = await listStructure(backend).catch(() => null);
  if (!table) return null;
  const tunnelled = new Map<number, DestinationState[]>();
  for (let i = 0; i < table.services.count; i++) {
    if (printsFromRows(table.rows, i, 'save')) continue;
    const dests = table.destinations(i);
    if (dests.some((d) => d.forward === 'tun')) tunnelled.set(i, await backend.listDestinations(specOf(table, i).key));
  }
  if (tunnelled.size === 0) return table;
  return { ...table, destinations: (i) => tunnelled.get(i) ?? table.destinations(i) };
}

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
    // dump() keeps the kernel's order, which ipvsadm's sort needs to come out identical; /proc lists the same order
    const fast = !json && !thresholds ? await saveStructure(backend) : null;
    if (fast) {
      printProcListing(fast, { layout: 'save', emit: stdoutBytes(io) });
      return 0;
    }
    const table = await backend.dump();
    if (json) {
      const info = await backend.info();
      io.stdout(stringifySnapshot(makeSnapshot(table, { host: deps.hostname(), ipvsVersion: info.version, now: deps.now() })));
    } else {
      formatSnapshot(table, { thresholds, emit: (text) => io.stdout(text) });
    }
    return 0;
  } finally {
    backend.close();
  }
}
