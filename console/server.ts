/**
 * The Director console: an unprivileged web server that serves the Next app,
 * signs operators in, and forwards tRPC to the agents with tokens the browser
 * never sees.   Run: npx tsx console/server.ts   (PORT, HOST, NODE_ENV)
 */
import http from 'node:http';
import path from 'node:path';
import next from 'next';
import { ConfigError, loadConfig, type AgentConfig } from './config';
import { checkOrigin } from './origin';
import { closeAllSockets, forwardHttp, forwardWebSocket, parseTrpcPath } from './proxy';
import {
  authenticate, clearedCookie, COOKIE_NAME, decodeSession, encodeSession, LoginLimiter, newSession, readCookie,
  Revocations, sessionCookie, type Session,
} from './session';

process.env.NEXT_TELEMETRY_DISABLED = '1';

if (typeof process.getuid === 'function' && process.getuid() === 0 && process.env.DIRECTOR_CONSOLE_ALLOW_ROOT !== '1') {
  console.error('director console: refusing to run as root; the console needs no privilege (only the agent does). Set DIRECTOR_CONSOLE_ALLOW_ROOT=1 to override.');
  process.exit(2);
}

let config;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`director console: configuration error: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
const cfg = config;

const dev = process.env.NODE_ENV !== 'production';
const port = Number(process.env.PORT ?? 3000);
const hostname = process.env.HOST ?? '127.0.0.1';
const secureCookies = process.env.DIRECTOR_CONSOLE_SECURE_COOKIES === '1';
const demo = dev || process.env.DIRECTOR_CONSOLE_DEMO === '1';

const app = next({ dev, dir: path.resolve(import.meta.dirname, '..'), hostname, port });
const handle = app.getRequestHandler();
const revoked = new Revocations();
const limiter = new LoginLimiter();
const agentsById = new Map<string, AgentConfig>(cfg.agents.map((a) => [a.id, a]));

function sessionOf(req: http.IncomingMessage): Session | null {
  const s = decodeSession(cfg.secret, readCookie(req.headers.cookie, COOKIE_NAME));
  return s && !revoked.isRevoked(s) ? s : null;
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: http.IncomingMessage, limit = 16 * 1024): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const PUBLIC_PREFIXES = ['/_next/', '/login', '/favicon.ico', '/api/session'];
const isPublic = (p: string) => PUBLIC_PREFIXES.some((x) => p === x || p.startsWith(x.endsWith('/') ? x : `${x}/`) || p.startsWith(`${x}?`));

function originOk(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const v = checkOrigin(req.headers.origin, req.headers.host, cfg.allowedOrigins);
  if (!v.ok) json(res, 403, { error: `Request refused: ${v.reason}. Open the console at its own address.` });
  return v.ok;
}

async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://console.invalid');
  const p = url.pathname;
  const unsafe = req.method !== 'GET' && req.method !== 'HEAD';
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'same-origin');
  res.setHeader('x-frame-options', 'DENY');

  if (p === '/api/session' && req.method === 'POST') {
    if (!originOk(req, res)) return;
    const addr = req.socket.remoteAddress ?? 'unknown';
    if (limiter.blocked(addr)) return json(res, 429, { error: 'Too many failed sign-ins from this address; wait five minutes and try again.' });
    let body: { username?: unknown; password?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      return json(res, 400, { error: 'Send JSON: { "username", "password" }.' });
    }
    const user = authenticate(cfg.users, body.username, body.password);
    if (!user) {
      limiter.fail(addr);
      return json(res, 401, { error: 'Wrong username or password.' });
    }
    limiter.succeed(addr);
    const s = newSession(user.username, user.role);
    return json(res, 200, { user: { name: s.user, role: s.role } }, { 'set-cookie': sessionCookie(encodeSession(cfg.secret, s), secureCookies) });
  }
  if (p === '/api/session/logout' && req.method === 'POST') {
    if (!originOk(req, res)) return;
    const s = sessionOf(req);
    if (s) revoked.revoke(s);
    res.writeHead(303, { location: '/login', 'set-cookie': clearedCookie(secureCookies) });
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
      directors: cfg.agents.map((a) => ({
        id: a.id,
        name: a.name,
        // An operator is a viewer on a director for which the console holds no operator token.
        role: session.role === 'operator' && a.operatorToken ? 'operator' : 'viewer',
      })),
    });
  }
  const t = parseTrpcPath(p);
  if (t) {
    const agent = agentsById.get(t.id);
    if (!agent) return json(res, 404, { error: `No director with id '${t.id}' is configured.` });
    return forwardHttp(req, res, agent, session!.role, t.rest, url.search);
  }
  await handle(req, res);
}

await app.prepare();

const server = http.createServer((req, res) => {
  route(req, res).catch((err: unknown) => {
    console.error('director console: request failed', err);
    if (!res.headersSent) json(res, 500, { error: 'The console hit an internal error; see its log.' });
    else res.destroy();
  });
});

// Next attaches its own upgrade listener (dev HMR) on the first request; we
// only take our own path and leave every other upgrade alone.
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url ?? '/', 'http://console.invalid');
  if (url.pathname !== '/api/trpc-ws') return;
  const refuse = (status: number, why: string) => {
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${why}\n`);
  };
  const v = checkOrigin(req.headers.origin, req.headers.host, cfg.allowedOrigins);
  if (!v.ok) return refuse(403, v.reason);
  const session = sessionOf(req);
  if (!session) return refuse(401, 'not signed in');
  const agent = agentsById.get(url.searchParams.get('director') ?? '');
  if (!agent) return refuse(404, 'unknown director');
  forwardWebSocket(req, socket, head, agent, session.role);
});

server.listen(port, hostname, () => {
  console.log(`director console: http://${hostname}:${port} (${dev ? 'development' : 'production'}), ${cfg.agents.length} director(s): ${cfg.agents.map((a) => a.id).join(', ')}`);
  for (const u of cfg.generatedUsers) console.log(`director console: generated ${u.role} account: ${u.username} / ${u.password}`);
  if (cfg.secretGenerated) console.log('director console: DIRECTOR_CONSOLE_SECRET unset; sessions end when the console restarts.');
});

function shutdown(): void {
  closeAllSockets();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
