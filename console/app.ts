/**
 * The console's HTTP(S) server without Next: sign-in, sessions, security headers,
 * the users API and the tRPC proxy. server.ts hands it Next's request handler;
 * tests hand it a stub, so all of this runs in unit tests without a build.
 */
import http from 'node:http';
import https from 'node:https';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ROLES, roleRank, type AgentConfig, type ConsoleConfig, type Role } from './config';
import { AgentsStore, agentsFile } from './agents-store';
import { allAgents, handleDirectorsApi, type DirectorsDeps } from './directors-api';
import { checkOrigin } from './origin';
import { closeAllSockets, closeSessionSockets, forwardHttp, forwardWebSocket, parseTrpcPath } from './proxy';
import { clearedCookie, COOKIE_NAME, LoginLimiter, readCookie, sessionCookie, Sessions, type Session } from './session';
import { authenticate, hashPassword, UserStore, UserStoreError, type User } from './users';

export type NextHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

export interface ConsoleApp {
  server: http.Server;
  sessions: Sessions;
  /** Re-reads the users file now (the app also polls it); ends sessions of removed or changed users. */
  refreshUsers(): void;
  close(): Promise<void>;
}

export interface AppOptions {
  cfg: ConsoleConfig;
  handleNext: NextHandler;
  dev: boolean;
  log?: (line: string) => void;
  /** How often the users file is checked for changes (ms). */
  usersPollMs?: number;
  /** How long a session lasts (tests shorten it). */
  sessionTtlMs?: number;
}

/**
 * 'unsafe-inline' for scripts: Next's app router streams inline scripts that carry no
 * nonce on prerendered pages. The policy still forbids scripts from any other origin,
 * plugins, framing, foreign form targets and connections to other hosts.
 */
export function contentSecurityPolicy(dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'unsafe-inline'${dev ? " 'unsafe-eval'" : ''}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const stampOf = (u: User) => createHash('sha256').update(u.hash).digest('base64url').slice(0, 16);

export async function createConsoleApp(opts: AppOptions): Promise<ConsoleApp> {
  const { cfg, handleNext, dev } = opts;
  const log = opts.log ?? ((l: string) => console.log(l));
  const secure = cfg.secureCookies;
  const demo = cfg.demo ?? dev;
  const csp = contentSecurityPolicy(dev);
  const hsts = cfg.tls && cfg.tls.hstsMaxAge > 0 ? `max-age=${cfg.tls.hstsMaxAge}` : null;
  // directors from the configuration file, plus those enrolled through the Directors page or
  // `director console add-agent` (agents-store.ts; re-read when the file changes)
  const directorsDeps: DirectorsDeps = { store: new AgentsStore(agentsFile(cfg.stateDir)), configured: () => cfg.agents, consoleName: `console ${os.hostname()}` };
  const agents = (): AgentConfig[] => {
    try {
      return allAgents(directorsDeps);
    } catch (e) {
      log(`director console: enrolled directors: ${(e as Error).message}`);
      return cfg.agents;
    }
  };
  const agentById = (id: string): AgentConfig | undefined => agents().find((a) => a.id === id);
  const sessions = new Sessions(opts.sessionTtlMs);
  const limiter = new LoginLimiter();
  /** A session also remembers which password it was opened with: a new password ends it. */
  const stamps = new Map<string, string>();

  // Users: fixed by the environment (lab, tests; hashed here, the plain text dropped), or the store.
  const store = cfg.envUsers ? null : new UserStore(cfg.usersFile);
  const fixed: User[] | null = cfg.envUsers
    ? await Promise.all(cfg.envUsers.map(async (u) => ({ name: u.username, role: u.role, hash: await hashPassword(u.password) })))
    : null;
  if (cfg.envUsers) for (const u of cfg.envUsers) u.password = '';
  const users = (): User[] => fixed ?? store!.list();
  store?.reload();
  if (users().length === 0) log(`director console: no users yet; add one with: director console user add NAME --role admin   (users file ${cfg.usersFile})`);

  const reconcile = () => {
    const now = new Map(users().map((u) => [u.name, u]));
    sessions.reconcile((name) => now.get(name)?.role);
    for (const [sid, stamp] of stamps) {
      const s = sessions.get(sid);
      const u = s ? now.get(s.user) : undefined;
      if (!s) stamps.delete(sid);
      else if (!u || stampOf(u) !== stamp) sessions.end(sid, 'password changed');
    }
  };
  const refreshUsers = () => {
    try {
      if (store?.reload()) reconcile();
    } catch (e) {
      // A broken file keeps the last good list: better than signing everyone out.
      log(`director console: users file: ${(e as Error).message}`);
    }
  };
  let ticks = 0;
  const poll = setInterval(() => {
    refreshUsers();
    // Expired sessions end here too, so a socket left open does not outlive its session.
    if (++ticks % 4 === 0) sessions.prune();
  }, opts.usersPollMs ?? 500);
  poll.unref();
  sessions.onEnd((s, why) => {
    stamps.delete(s.sid);
    const n = closeSessionSockets(s.sid, `session ended: ${why}`);
    if (why !== 'expired') log(`director console: session of ${s.user} ended (${why})${n ? `, ${n} socket(s) closed` : ''}`);
  });

  const sessionOf = (req: http.IncomingMessage): Session | null => sessions.get(readCookie(req.headers.cookie, COOKIE_NAME));

  function json(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
  }

  async function readText(req: http.IncomingMessage, limit = 16 * 1024): Promise<string> {
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > limit) throw new Error('body too large');
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function readJson(req: http.IncomingMessage, limit = 16 * 1024): Promise<Record<string, unknown> | null> {
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > limit) return null;
      chunks.push(c as Buffer);
    }
    try {
      const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  const PUBLIC_PREFIXES = ['/_next/', '/login', '/favicon.ico', '/api/session'];
  const isPublic = (p: string) => PUBLIC_PREFIXES.some((x) => p === x || p.startsWith(x.endsWith('/') ? x : `${x}/`) || p.startsWith(`${x}?`));

  function originOk(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const v = checkOrigin(req.headers.origin, req.headers.host, cfg.allowedOrigins);
    if (!v.ok) json(res, 403, { error: `Request refused: ${v.reason}. Open the console at its own address.` });
    return v.ok;
  }

  async function usersApi(req: http.IncomingMessage, res: http.ServerResponse, session: Session, p: string): Promise<void> {
    if (session.role !== 'admin') return json(res, 403, { error: 'Managing users needs the admin role.' });
    const list = () => users().map((u) => ({ name: u.name, role: u.role }));
    if (p === '/api/users' && req.method === 'GET') return json(res, 200, { users: list(), editable: store !== null, self: session.user });
    if (!store) return json(res, 409, { error: 'Users are fixed by DIRECTOR_CONSOLE_USERS for this console (lab or test); they cannot be changed here.' });
    const body = req.method === 'DELETE' ? {} : await readJson(req);
    if (!body) return json(res, 400, { error: 'Send a JSON object.' });
    const admins = () => users().filter((u) => u.role === 'admin').length;
    const role = body.role;
    if (role !== undefined && !ROLES.includes(role as Role)) return json(res, 400, { error: `role must be one of ${ROLES.join(', ')}` });
    try {
      if (p === '/api/users' && req.method === 'POST') {
        if (typeof body.name !== 'string' || typeof body.password !== 'string' || role === undefined) return json(res, 400, { error: 'Send { "name", "role", "password" }.' });
        await store.add(body.name, role as Role, body.password);
      } else {
        const m = /^\/api\/users\/([^/]+)$/.exec(p);
        if (!m) return json(res, 404, { error: 'No such users call.' });
        const name = decodeURIComponent(m[1]!);
        const target = store.get(name);
        if (!target) return json(res, 404, { error: `No user '${name}'.` });
        if (req.method === 'DELETE') {
          if (target.role === 'admin' && admins() === 1) return json(res, 409, { error: 'Keep at least one admin: add another before removing this one.' });
          store.remove(name);
        } else if (req.method === 'PATCH') {
          if (role !== undefined) {
            if (target.role === 'admin' && role !== 'admin' && admins() === 1) return json(res, 409, { error: 'Keep at least one admin: make another user admin first.' });
            store.setRole(name, role as Role);
          }
          if (body.password !== undefined) {
            if (typeof body.password !== 'string') return json(res, 400, { error: 'password must be a string' });
            await store.setPassword(name, body.password);
          }
        } else return json(res, 405, { error: 'Use GET, POST, PATCH or DELETE.' });
      }
    } catch (e) {
      if (e instanceof UserStoreError) return json(res, 400, { error: e.message });
      throw e;
    }
    reconcile();
    return json(res, 200, { users: list(), editable: true, self: session.user });
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const p = url.pathname;
    const unsafe = req.method !== 'GET' && req.method !== 'HEAD';
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'same-origin');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('content-security-policy', csp);
    if (hsts) res.setHeader('strict-transport-security', hsts);

    if (p === '/api/session' && req.method === 'POST') {
      if (!originOk(req, res)) return;
      const addr = req.socket.remoteAddress ?? 'unknown';
      const body = await readJson(req);
      if (!body) return json(res, 400, { error: 'Send JSON: { "username", "password" }.' });
      const name = typeof body.username === 'string' ? body.username : '';
      const blocked = limiter.blocked(name, addr);
      if (blocked) return json(res, 429, { error: blocked });
      const user = await authenticate(users(), body.username, body.password);
      if (!user) {
        limiter.fail(name, addr);
        return json(res, 401, { error: 'Wrong username or password.' });
      }
      limiter.succeed(name, addr);
      const s = sessions.create(user.name, user.role);
      const u = users().find((x) => x.name === user.name);
      if (u) stamps.set(s.sid, stampOf(u));
      return json(res, 200, { user: { name: s.user, role: s.role } }, { 'set-cookie': sessionCookie(s.sid, secure) });
    }
    if (p === '/api/session/logout' && req.method === 'POST') {
      if (!originOk(req, res)) return;
      const s = sessionOf(req);
      if (s) sessions.end(s.sid, 'signed out');
      res.writeHead(303, { location: '/login', 'set-cookie': clearedCookie(secure) });
      res.end();
      return;
    }

    const session = sessionOf(req);
    if (!session && !isPublic(p) && !(demo && p.startsWith('/demo'))) {
      if (p.startsWith('/api/')) return json(res, 401, { error: 'Not signed in. Reload the page to sign in again.' });
      res.writeHead(302, { location: '/login' });
      res.end();
      return;
    }
    if (unsafe && !p.startsWith('/_next/') && !originOk(req, res)) return;

    if (p === '/api/me') {
      if (!session) return json(res, 401, { error: 'Not signed in.' });
      return json(res, 200, {
        user: { name: session.user, role: session.role },
        directors: agents().map((a) => ({
          id: a.id,
          name: a.name,
          // An operator is a viewer on a director for which the console holds no operator token.
          role: roleRank(session.role) >= roleRank('operator') && a.operatorToken ? 'operator' : 'viewer',
        })),
      });
    }
    if (p === '/api/users' || p.startsWith('/api/users/')) return usersApi(req, res, session!, p);
    if (p === '/api/directors' || p.startsWith('/api/directors/')) {
      await handleDirectorsApi(req, res, p, session!.role, directorsDeps, readText, json);
      return;
    }
    const t = parseTrpcPath(p);
    if (t) {
      const agent = agentById(t.id);
      if (!agent) return json(res, 404, { error: `No director with id '${t.id}' is configured.` });
      return forwardHttp(req, res, agent, session!, t.rest, url.search);
    }
    await handleNext(req, res);
  }

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    route(req, res).catch((err: unknown) => {
      console.error('director console: request failed', err);
      if (!res.headersSent) json(res, 500, { error: 'The console hit an internal error; see its log.' });
      else res.destroy();
    });
  };
  const server: http.Server = cfg.tls
    ? https.createServer({ cert: readFileSync(cfg.tls.cert), key: readFileSync(cfg.tls.key) }, onRequest)
    : http.createServer(onRequest);

  // Next attaches its own upgrade listener (dev HMR) on the first request; we
  // only take our own path and leave every other upgrade alone.
  server.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    if (url.pathname !== '/api/trpc-ws') return;
    const refuse = (status: number, why: string) => {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${why}\n`);
    };
    const v = checkOrigin(req.headers.origin, req.headers.host, cfg.allowedOrigins);
    if (!v.ok) return refuse(403, v.reason);
    const session = sessionOf(req);
    if (!session) return refuse(401, 'not signed in');
    const agent = agentById(url.searchParams.get('director') ?? '');
    if (!agent) return refuse(404, 'unknown director');
    forwardWebSocket(req, socket, head, agent, session, () => sessions.get(session.sid) !== null).catch((e: unknown) => {
      refuse(502, `agent unreachable: ${(e as Error).message}`);
    });
  });

  return {
    server,
    sessions,
    refreshUsers,
    close: () => new Promise<void>((resolve) => {
      clearInterval(poll);
      closeAllSockets();
      server.close(() => resolve());
      server.closeAllConnections?.();
    }),
  };
}
