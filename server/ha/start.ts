/**
 * Reading the HA configuration file and wiring the controller for the agent.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { haConfigSchema, type HaConfig } from '@/lib/schemas/ha';
import { zkPaths } from '@/lib/ha/zk-layout';
import { checkVrrpConfig } from '@/lib/ha/vrrp-conf';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { TableHub } from '../live/hub';
import type { Journal } from '../table/journal';
import type { Mutex } from '../table/mutex';
import { HaController } from './controller';
import { TableSync } from './table-sync';
import { Registration } from './registry';
import type { OutsideWatch } from '../table/outside';

export const DIRECTOR_ID_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Parse and check; every problem is named by its field. `directorId` (--director-id) must agree with the file. */
export async function loadHaConfig(file: string, directorId?: string): Promise<HaConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  if (directorId !== undefined && typeof raw === 'object' && raw !== null && !('director' in raw)) {
    raw = { ...raw, director: directorId };
  }
  const r = haConfigSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(`${file}: ${r.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  }
  if (directorId !== undefined && r.data.director !== directorId) {
    throw new Error(`${file}: director '${r.data.director}' differs from --director-id '${directorId}'`);
  }
  const problems = checkVrrpConfig(r.data);
  if (problems.length) throw new Error(`${file}: ${problems.join('; ')}`);
  return r.data;
}

export function startHa(d: {
  config: HaConfig; backend: IpvsBackend; journal: Journal; writeLock: Mutex; hub: TableHub; log: Logger; runDir: string;
  /** changes made outside Director here: replication holds a table that would undo one */
  outside?: OutsideWatch | null;
  /** the agent's state folder (the HA secrets are found from it); default: runDir's parent */
  stateDir?: string;
  /** the agent serves TLS: register it in ZooKeeper for consoles to enroll (where they reach it, its certificate) */
  register?: { url: string; fingerprint: string } | null;
}): HaController & { table: TableSync } {
  const log = d.log.child({ svc: 'ha' });
  let controller: HaController | null = null;
  const runDir = d.config.runDir ?? d.runDir;
  const table = new TableSync({
    backend: d.backend, journal: d.journal, writeLock: d.writeLock, hub: d.hub, log, director: d.config.director,
    path: zkPaths(d.config.zkRoot).table, root: d.config.zkRoot, key: () => controller?.tableKey() ?? null,
    holdShare: d.config.holdRemovalShare, seqFile: path.join(runDir, 'table-seq.json'),
    onChange: () => controller?.poke(), record: (...a) => controller?.recordTable(...a),
    ...(d.outside ? { outside: () => d.outside!.status().changes } : {}),
  });
  const stateDir = d.stateDir ?? path.dirname(d.runDir);
  const registration = d.register
    ? new Registration({ root: d.config.zkRoot, director: d.config.director, stateDir, url: d.register.url, fingerprint: d.register.fingerprint, log })
    : null;
  controller = new HaController({ config: d.config, backend: d.backend, log, runDir: d.runDir, stateDir, table, registration });
  return Object.assign(controller, { table });
}
