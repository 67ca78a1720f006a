/**
 * Each HA lab director's role as its own agent reports it (ha.status over
 * HTTP, the viewer token from the director's state folder, which all
 * directors share in the lab's /run). The kernel facts say who holds the VIP;
 * only the agents know who is MASTER, BACKUP or fenced.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { HA_DIRECTORS, HA_LAB, type HaDirectorName, type HaDirectorRole } from '@/lib/lab/ha-topology';
import { haStatusSchema, type HaStatus } from '@/lib/schemas/ha';

// a busy lab kernel answers slowly; the page polls every 4 s
const TIMEOUT_MS = 3000;
/** an answer is small; anything larger is not an ha.status */
const MAX_BYTES = 1024 * 1024;

/** The role of one director from its ha.status answer (pure: tested without agents). */
export function roleFromStatus(st: HaStatus): HaDirectorRole {
  const groups = st.groups;
  return {
    state: groups.length === 0 ? (st.enabled ? 'UNKNOWN' : 'HA off') : groups.length === 1 ? groups[0]!.vrrpState : groups.map((g) => `${g.name} ${g.vrrpState}`).join(', '),
    fenced: groups.some((g) => g.fenced),
    leaseHolder: groups[0]?.leaseHolder ?? null,
    zookeeper: st.zookeeper.state,
    heartbeatOk: st.heartbeat ? st.heartbeat.ok : null,
    error: null,
  };
}

const noAnswer = (error: string): HaDirectorRole => ({ state: null, fenced: false, leaseHolder: null, zookeeper: null, heartbeatOk: null, error });

async function askAgent(stateDir: string, name: HaDirectorName, lanAddress: string): Promise<HaDirectorRole> {
  let token: string;
  try {
    token = (await readFile(path.join(stateDir, name, 'tokens', 'viewer.token'), 'utf8')).trim();
  } catch (e) {
    return noAnswer(`no viewer token for ${name}: ${(e as Error).message}`);
  }
  try {
    const res = await fetch(`http://${lanAddress}:${HA_LAB.agentPort}/trpc/ha.status`, {
      headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) return noAnswer(`its agent answered HTTP ${res.status}`);
    if (text.length > MAX_BYTES) return noAnswer('its agent answered more than 1 MiB');
    const parsed = haStatusSchema.safeParse((JSON.parse(text) as { result?: { data?: unknown } }).result?.data);
    if (!parsed.success) return noAnswer(`its agent's ha.status does not match this version (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
    return roleFromStatus(parsed.data);
  } catch (e) {
    const err = e as Error;
    return noAnswer(err.name === 'TimeoutError' ? `its agent did not answer within ${TIMEOUT_MS} ms` : `its agent did not answer: ${err.message}`);
  }
}

/** Every director's role, asked in parallel. */
export async function readHaRoles(stateDir: string): Promise<Record<HaDirectorName, HaDirectorRole>> {
  const roles = await Promise.all(HA_DIRECTORS.map((d) => askAgent(stateDir, d.name, d.lanAddress)));
  return Object.fromEntries(HA_DIRECTORS.map((d, i) => [d.name, roles[i]!])) as Record<HaDirectorName, HaDirectorRole>;
}
