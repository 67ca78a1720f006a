/**
 * /api/directors: the Directors page's API (admins only). Lists the directors
 * the console knows (from its configuration file, and enrolled ones from
 * agents-store.ts), enrolls one from a code, renames and removes enrolled ones
 * (removal gives the credential back to the agent when it is reachable).
 * Tokens never leave the console server: the browser sees ids, names, URLs
 * and fingerprints.
 *
 * /api/directors/registered lists the directors registered in ZooKeeper
 * (ha.registry of each director the console knows) that are not enrolled yet,
 * without their codes; /api/directors/approve fetches the code again here and
 * redeems it as a pasted one would be.
 */
import type http from 'node:http';
import type { AgentConfig } from './config';
import type { AgentsStore, StoredAgent } from './agents-store';
import { redeemCode, revokeCredential } from './enroll-client';
import type { RegistryEntry, RegistryListing } from '../lib/enroll/registry';
import { askRegistry } from './registry-client';

export interface DirectorsDeps {
  store: AgentsStore;
  /** directors from the configuration file (read-only here) */
  configured: () => readonly AgentConfig[];
  /** how this console names itself to agents (kept with the credential there) */
  consoleName: string;
  redeem?: typeof redeemCode;
  revoke?: typeof revokeCredential;
  /** an agent's ha.registry (registry-client.ts) */
  registry?: (agent: AgentConfig) => Promise<RegistryListing>;
}

export interface Waiting { directorId: string; url: string; fingerprint: string; seenBy: string[] }

/**
 * Registered directors no known director matches (by director id, URL or certificate), with their codes (for
 * approve only), and what could not be asked. A director without high availability has no registry to offer.
 */
export async function registeredDirectors(deps: DirectorsDeps): Promise<{ waiting: (Waiting & { code: string })[]; problems: string[] }> {
  const known = allAgents(deps);
  const ids = new Set(known.map((a) => a.id));
  const urls = new Set(known.map((a) => a.url.replace(/\/+$/, '')));
  const prints = new Set(known.flatMap((a) => (a.fingerprint ? [a.fingerprint.toUpperCase()] : [])));
  const ask = deps.registry ?? askRegistry;
  const problems: string[] = [];
  const byId = new Map<string, Waiting & { code: string }>();
  const answers = await Promise.all(known.filter((a) => a.operatorToken).map(async (a) => {
    try {
      return { a, listing: await ask(a) };
    } catch (e) {
      if ((e as { code?: string }).code !== 'PRECONDITION_FAILED') problems.push(`${a.name}: ${(e as Error).message}`);
      return { a, listing: null };
    }
  }));
  for (const { a, listing } of answers) {
    for (const s of listing?.skipped ?? []) problems.push(`${a.name}: registry entry '${s.node}' skipped: ${s.reason}`);
    for (const e of listing?.entries ?? []) {
      if (ids.has(e.directorId) || urls.has(e.url) || prints.has(e.fingerprint)) continue;
      const seen = byId.get(e.directorId);
      if (seen) {
        if (!seen.seenBy.includes(a.name)) seen.seenBy.push(a.name);
        continue;
      }
      byId.set(e.directorId, { directorId: e.directorId, url: e.url, fingerprint: e.fingerprint, code: e.code, seenBy: [a.name] });
    }
  }
  return { waiting: [...byId.values()].sort((x, y) => x.directorId.localeCompare(y.directorId)), problems };
}

/** The registered entry's fields the browser may see. */
const shown = ({ directorId, url, fingerprint, seenBy }: Waiting): Waiting => ({ directorId, url, fingerprint, seenBy });
export type { RegistryEntry };

type Json = (res: http.ServerResponse, status: number, body: unknown) => void;

const enrolledCache = new WeakMap<StoredAgent, AgentConfig>();
/** Enrolled directors as the proxy uses them; one object per stored entry, so each keeps its pinned https.Agent. */
export function enrolledAgents(store: AgentsStore): AgentConfig[] {
  return store.list().map((a) => {
    let c = enrolledCache.get(a);
    if (!c) {
      c = { id: a.id, name: a.name, url: a.url, fingerprint: a.fingerprint, viewerToken: a.viewerToken, operatorToken: a.operatorToken, trpcPath: '/trpc', wsPath: '/trpc-ws' };
      enrolledCache.set(a, c);
    }
    return c;
  });
}

/** Every director: the configured ones first; an enrolled one never shadows a configured id. */
export function allAgents(deps: Pick<DirectorsDeps, 'store' | 'configured'>): AgentConfig[] {
  const fixed = deps.configured();
  const ids = new Set(fixed.map((a) => a.id));
  return [...fixed, ...enrolledAgents(deps.store).filter((a) => !ids.has(a.id))];
}

export function describeDirectors(deps: DirectorsDeps) {
  const enrolled = new Map(deps.store.list().map((a) => [a.id, a]));
  return allAgents(deps).map((a) => {
    const e = enrolled.get(a.id);
    return {
      id: a.id, name: a.name, url: a.url, fingerprint: a.fingerprint ?? null,
      source: e && !deps.configured().some((c) => c.id === a.id) ? ('enrolled' as const) : ('configured' as const),
      enrolledAt: e?.enrolledAt ?? null,
    };
  });
}

/**
 * Handles /api/directors[/ID]; `role` is the signed-in user's. Returns false when the path is not ours.
 * The caller has already checked the session and, for unsafe methods, the Origin.
 */
export async function handleDirectorsApi(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  pathname: string,
  role: string,
  deps: DirectorsDeps,
  readBody: (req: http.IncomingMessage) => Promise<string>,
  json: Json,
): Promise<boolean> {
  const m = /^\/api\/directors(?:\/([^/]+))?$/.exec(pathname);
  if (!m) return false;
  if (role !== 'admin') {
    json(res, 403, { error: 'Managing directors needs the admin role.' });
    return true;
  }
  const id = m[1] ? decodeURIComponent(m[1]) : null;
  const body = async (): Promise<Record<string, unknown> | null> => {
    try {
      const v = JSON.parse(await readBody(req)) as unknown;
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  };

  if (id === null && req.method === 'GET') {
    json(res, 200, { directors: describeDirectors(deps) });
    return true;
  }
  if (id === 'registered' && req.method === 'GET') {
    const r = await registeredDirectors(deps);
    json(res, 200, { registered: r.waiting.map(shown), problems: r.problems });
    return true;
  }
  if (id === 'approve' && req.method === 'POST') {
    const b = await body();
    if (!b || typeof b.directorId !== 'string' || b.directorId.length > 64 || (b.name !== undefined && typeof b.name !== 'string')) {
      json(res, 400, { error: 'Send JSON: { "directorId": "lvs2", "name"?: "lvs2" }.', field: 'directorId' });
      return true;
    }
    const name = typeof b.name === 'string' ? b.name.trim() : '';
    if (name.length > 80) {
      json(res, 400, { error: 'A name is at most 80 characters.', field: 'name' });
      return true;
    }
    // the code is read again here, now: the browser never had it
    const w = (await registeredDirectors(deps)).waiting.find((x) => x.directorId === b.directorId);
    if (!w) {
      json(res, 404, { error: `No director '${b.directorId}' is waiting for approval (enrolled meanwhile, or its agent left ZooKeeper).`, field: 'directorId' });
      return true;
    }
    await enroll(w.code, name, deps, res, json);
    return true;
  }
  if (id === null && req.method === 'POST') {
    const b = await body();
    if (!b || typeof b.code !== 'string' || (b.name !== undefined && typeof b.name !== 'string')) {
      json(res, 400, { error: 'Send JSON: { "code": "director-enroll-…", "name"?: "lvs1" }.', field: 'code' });
      return true;
    }
    const name = typeof b.name === 'string' ? b.name.trim() : '';
    if (name.length > 80) {
      json(res, 400, { error: 'A name is at most 80 characters.', field: 'name' });
      return true;
    }
    await enroll(b.code, name, deps, res, json);
    return true;
  }
  if (id !== null && (req.method === 'PATCH' || req.method === 'DELETE')) {
    if (!deps.store.list().some((a) => a.id === id)) {
      const configured = deps.configured().some((a) => a.id === id);
      json(res, configured ? 409 : 404, {
        error: configured ? `Director '${id}' comes from the console's configuration file; change it there.` : `No enrolled director with id '${id}'.`,
      });
      return true;
    }
    if (req.method === 'PATCH') {
      const b = await body();
      if (!b || typeof b.name !== 'string') {
        json(res, 400, { error: 'Send JSON: { "name": "…" }.', field: 'name' });
        return true;
      }
      try {
        const a = deps.store.rename(id, b.name);
        json(res, 200, { director: { id: a.id, name: a.name } });
      } catch (e) {
        json(res, 400, { error: (e as Error).message, field: 'name' });
      }
      return true;
    }
    const gone = deps.store.remove(id);
    let revokeError: string | null = null;
    try {
      await (deps.revoke ?? revokeCredential)(gone);
    } catch (e) {
      revokeError = `${(e as Error).message}. On the director, remove the entry '${gone.credentialId}' from <state>/tokens/consoles.json and restart its agent.`;
    }
    json(res, 200, { removed: id, revoked: revokeError === null, revokeError });
    return true;
  }
  json(res, 405, { error: 'Method not allowed.' });
  return true;
}

/** Redeems a code (pasted, or read from the registry) and keeps the director; answers the request. */
async function enroll(code: string, name: string, deps: DirectorsDeps, res: http.ServerResponse, json: Json): Promise<void> {
  let got;
  try {
    got = await (deps.redeem ?? redeemCode)(code, deps.consoleName);
  } catch (e) {
    json(res, 400, { error: (e as Error).message, field: 'code' });
    return;
  }
  try {
    const a = deps.store.add({
      id: name || got.directorId, name: name || got.directorId, url: got.url, fingerprint: got.fingerprint,
      viewerToken: got.viewerToken, operatorToken: got.operatorToken, credentialId: got.credentialId, enrolledAt: new Date().toISOString(),
    }, deps.configured().map((c) => c.id));
    json(res, 201, { director: { id: a.id, name: a.name, url: a.url, fingerprint: a.fingerprint } });
  } catch (e) {
    // the agent issued a credential this console will not keep: give it back
    await (deps.revoke ?? revokeCredential)({ name: got.directorId, url: got.url, fingerprint: got.fingerprint, operatorToken: got.operatorToken }).catch(() => {});
    json(res, 409, { error: (e as Error).message, field: 'code' });
  }
}
