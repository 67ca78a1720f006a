/**
 * The `ha` procedures of one director, through the console's per-director
 * tRPC client. Everything an agent sends is checked against the contract
 * (lib/schemas/ha.ts) before the panel believes it: a console newer or older
 * than an agent must show a clear error, not a half-drawn panel.
 */
import { haStatusSchema, type HaStatus } from '@/lib/schemas/ha';
import { directorClient } from '../data/trpc';

/** The `ha` procedures of one director, typed by the agent's router (the browser imports its type only). */
export function haProcedures(directorId: string) {
  return directorClient(directorId).ha;
}

/** A status from `ha.status`, or from `ha.onStatus` bare or wrapped by tRPC's tracked() as {id, data}. */
export function parseStatusMessage(m: unknown): { ok: true; status: HaStatus } | { ok: false; error: string } {
  const direct = haStatusSchema.safeParse(m);
  if (direct.success) return { ok: true, status: direct.data };
  if (m && typeof m === 'object' && 'data' in m) {
    const inner = haStatusSchema.safeParse((m as { data: unknown }).data);
    if (inner.success) return { ok: true, status: inner.data };
  }
  const issue = direct.error.issues[0];
  return { ok: false, error: `The agent's HA status does not match this console's contract (${issue ? `${issue.path.join('.') || 'status'}: ${issue.message}` : 'unknown shape'}); update the console or the agent so both run the same version.` };
}

/** An agent without the `ha` router (older build): tRPC answers NOT_FOUND for the path. */
export function isMissingProcedure(e: unknown): boolean {
  const code = (e as { data?: { code?: string } } | null)?.data?.code;
  const msg = e instanceof Error ? e.message : String(e);
  return code === 'NOT_FOUND' && /procedure|path/i.test(msg) || /No procedure found on path "?ha\./.test(msg);
}

/** The status of a director that runs no HA controller: the panel then explains how to enable it. */
export function notEnabledStatus(director: string, now: number, why: string): HaStatus {
  return {
    director,
    enabled: false,
    zookeeper: { state: 'disabled', since: now, sessionTimeoutMs: 0, failStatic: false, message: why },
    keepalived: { running: false, pid: null, configPath: null, lastError: null },
    groups: [],
    syncDaemons: [],
    table: { appliedVersion: null, zkVersion: null, lastError: null },
    transitions: [],
  };
}
