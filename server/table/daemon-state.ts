/**
 * A connection sync daemon as the journal records it and undo puts it back:
 * read by its state (master or backup), restarted with the settings it ran with.
 */
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { SyncDaemon, SyncDaemonConfig, SyncState } from '@/lib/ipvs/model';

export async function readDaemon(backend: IpvsBackend, state: SyncState): Promise<SyncDaemon | null> {
  return (await backend.listDaemons()).find((d) => d.state === state) ?? null;
}

/** The start request that brings back a daemon as it was read (0 and '' are what the kernel reports for "unset"). */
export function configOf(d: SyncDaemon): SyncDaemonConfig {
  return {
    state: d.state, interface: d.interface, syncId: d.syncId,
    ...(d.maxLen ? { maxLen: d.maxLen } : {}), ...(d.group ? { group: d.group } : {}),
    ...(d.port ? { port: d.port } : {}), ...(d.ttl ? { ttl: d.ttl } : {}),
  };
}

/** Stop, start or restart the `state` daemon so that it is `to` (null: not running). */
export async function restoreDaemon(backend: IpvsBackend, state: SyncState, to: SyncDaemon | null): Promise<void> {
  const cur = await readDaemon(backend, state);
  if (JSON.stringify(cur) === JSON.stringify(to)) return;
  if (cur) await backend.stopDaemon(state);
  if (to) await backend.startDaemon(configOf(to));
}
