/**
 * One HTTP(S) server for the agent: tRPC over HTTP at /trpc, tRPC over
 * WebSocket at /trpc-ws (Origin-checked upgrade), /metrics and /healthz.
 * Every tRPC call and every WebSocket connection is authenticated here.
 */
import { existsSync, unlinkSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type { AnyRouter, TRPCError } from '@trpc/server';
import { getWSConnectionHandler } from '@trpc/server/adapters/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { isDomainError, TooManyError, UnauthenticatedError } from '@/lib/errors';
import { parseIPv4, parseIPv6 } from '@/lib/net/ip';
import { Auth, bearerToken, originAllowed, RateLimited } from './auth';
import { ACTOR_HEADER, verifyActor } from '@/lib/auth/actor';
import type { Identity, Role } from '@/lib/auth/identity';
import { domainToTRPC } from './errors';
import { createContextInner, type AgentContext, type AgentDeps } from './context';
import type { Enrollment } from './enroll';
import { Counter, declaredLength, guardDeclaredBody, resolveLimits, sendTrpcError, type AgentLimits } from './limits';
import { createMetrics, type AgentMetrics } from '../live/metrics';
import { appRouter } from './router';
import { wsCallLimiter } from './ws-limits';

/** idle keep-alive connections are held this long (longer than any client's own idle timeout) */
export const KEEP_ALIVE_MS = 65_000;
export const HTTP_BASE = '/trpc';
export const WS_PATH = '/trpc-ws';

export type ListenSpec = { host: string; port: number } | { socket: string };

export interface AgentServerOptions {
  deps: AgentDeps;
  auth: Auth;
  listen: ListenSpec;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** allow a non-loopback address without TLS (tokens then cross the network in clear) */
  insecureListen?: boolean;
  /** browser origins allowed to open the WebSocket, e.g. "https://console.example:3000" */
  allowOrigins: readonly string[];
  /** a WebSocket that has not authenticated within this time is closed */
  authTimeoutMs?: number;
  metrics?: AgentMetrics;
  /** POST /enroll/redeem and /enroll/revoke (enroll.ts); only served over TLS */
  enroll?: Enrollment;
  /** overrides of DEFAULT_LIMITS (limits.ts) */
  limits?: Parameters<typeof resolveLimits>[0];
  /** the API served; the lab's launcher adds its lab.* procedures (server/lab/app-router.ts) */
  router?: AnyRouter;
}

export interface AgentServer {
  /** http(s)://host:port or unix:PATH */
  url: string;
  wsUrl: string | null;
  port: number | null;
  metrics: AgentMetrics;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const v4 = parseIPv4(host);
  if (v4) return v4[0] === 127;
  const v6 = parseIPv6(host.replace(/^\[|\]$/g, ''));
  if (!v6) return false;
  if (v6.slice(0, 15).every((b) => b === 0) && v6[15] === 1) return true;
  // ::ffff:127.x.y.z
  return v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff && v6[12] === 127;
}

/** Refuses configurations that would expose tokens on the network in clear. */
export function checkListen(listen: ListenSpec, tls: boolean, insecure: boolean): void {
  if ('socket' in listen) return;
  if (!isLoopback(listen.host) && !tls && !insecure) {
    throw new Error(
      `refusing to listen on ${listen.host} without TLS: give --tls-cert and --tls-key, ` +
        'or --insecure-listen if the network path is otherwise protected',
    );
  }
}

function remoteOf(req: http.IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unix';
}

function reject(socket: import('node:stream').Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export async function startAgentServer(opts: AgentServerOptions): Promise<AgentServer> {
  const { deps, auth } = opts;
  const log = deps.log;
  checkListen(opts.listen, opts.tls !== undefined, opts.insecureListen === true);
  const metrics = opts.metrics ?? createMetrics(deps.hub, { health: deps.health ?? null, ha: deps.ha ?? null, conns: deps.conns });
  const authedSockets = new WeakSet<object>();

  const limits: AgentLimits = resolveLimits(opts.limits);
  const router = opts.router ?? appRouter;

  async function authenticate(req: http.IncomingMessage, params: Record<string, string | undefined> | null | undefined): Promise<AgentContext> {
    const remote = remoteOf(req);
    const token = bearerToken(req.headers.authorization) ?? params?.token ?? null;
    try {
      if (!token) {
        auth.assertNotBlocked(remote);
        throw new UnauthenticatedError('a token is required (Authorization: Bearer, or the token connection parameter)');
      }
      const id = auth.verify(token, remote);
      if (!id) throw new UnauthenticatedError('the token is not valid');
      return createContextInner(deps, await withActor(id, token, req.headers[ACTOR_HEADER]), remote);
    } catch (e) {
      // outside any procedure: tRPC would answer 500 for anything but a TRPCError
      if (isDomainError(e)) throw domainToTRPC(e);
      throw e;
    }
  }

  /**
   * The console user named by a signed x-director-actor header, checked against the token
   * that authenticated the request. No header: no actor; a bad one is refused (401).
   */
  async function withActor(id: Identity, token: string, header: string | string[] | undefined): Promise<Identity> {
    if (header === undefined) return id;
    if (Array.isArray(header)) throw new UnauthenticatedError(`more than one ${ACTOR_HEADER} header`);
    const r = await verifyActor(token, header);
    if ('error' in r) throw new UnauthenticatedError(r.error);
    if (r.role !== id.role) {
      throw new UnauthenticatedError(`the ${ACTOR_HEADER} header names a ${r.role}, but the request carries the ${id.role} token`);
    }
    return { ...id, actor: r.user };
  }

  /** HTTP requests are authenticated once, before their body is read (its limit depends on the role). */
  const httpAuth = new WeakMap<http.IncomingMessage, { ctx: AgentContext } | { error: unknown }>();
  function httpHandler(maxBodySize: number) {
    return createHTTPHandler({
      router,
      basePath: `${HTTP_BASE}/`,
      // queries with a large input (snapshot.plan carries a whole snapshot) come as POST; a GET URL cannot hold them
      allowMethodOverride: true,
      maxBatchSize: limits.batchCalls,
      // a chunked body is counted as it streams and refused with 413 once it passes the limit
      maxBodySize,
      createContext: ({ req }) => {
        const a = httpAuth.get(req) ?? { error: domainToTRPC(new UnauthenticatedError('not authenticated')) };
        if ('error' in a) throw a.error;
        return a.ctx;
      },
      onError: ({ error, path }) => {
        if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ err: error.cause ?? error, path }, 'tRPC error');
      },
    });
  }
  const trpcHttpFor = new Map<number, ReturnType<typeof httpHandler>>();
  for (const n of [limits.anonymousBodyBytes, limits.roles.viewer.bodyBytes, limits.roles.operator.bodyBytes]) {
    if (!trpcHttpFor.has(n)) trpcHttpFor.set(n, httpHandler(n));
  }
  const httpInFlight = new Counter();
  let bodyBytesInFlight = 0;

  async function trpcHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let a: { ctx: AgentContext } | { error: unknown };
    try {
      a = { ctx: await authenticate(req, null) };
    } catch (error) {
      a = { error };
    }
    httpAuth.set(req, a);
    const role: Role | null = 'ctx' in a ? a.ctx.auth!.role : null;
    const max = role ? limits.roles[role].bodyBytes : limits.anonymousBodyBytes;
    if (!guardDeclaredBody(req, res, max)) return;
    const key = role ?? 'anonymous';
    const cap = role ? limits.roles[role].httpInFlight : limits.roles.viewer.httpInFlight;
    if (!httpInFlight.take(key, cap)) {
      sendTrpcError(res, 429, `more than ${cap} requests of the ${key} token at once; retry when some have finished`);
      return;
    }
    // bodies in memory at once, whoever sends them, stay within one budget
    const reserve = req.method === 'GET' || req.method === 'HEAD' ? 0 : Math.min(declaredLength(req) ?? max, max);
    if (bodyBytesInFlight + reserve > limits.bodyBudgetBytes) {
      httpInFlight.release(key);
      sendTrpcError(res, 429, 'the agent is reading too many request bodies at once; retry shortly');
      return;
    }
    bodyBytesInFlight += reserve;
    res.once('close', () => {
      httpInFlight.release(key);
      bodyBytesInFlight -= reserve;
    });
    void trpcHttpFor.get(max)!(req, res);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (url.pathname === HTTP_BASE || url.pathname.startsWith(`${HTTP_BASE}/`)) return trpcHttp(req, res);
    if (url.pathname.startsWith('/enroll/') && opts.enroll && opts.tls) return opts.enroll.handle(req, res, remoteOf(req));
    if (url.pathname === '/healthz') {
      const ok = deps.hub.latest() !== null;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'no table sample yet\n');
      return;
    }
    if (url.pathname === '/metrics') {
      // metrics name every service and real server: same token as the API
      const token = bearerToken(req.headers.authorization);
      let allowed = false;
      try {
        allowed = token !== null && auth.verify(token, remoteOf(req)) !== null;
      } catch (e) {
        if (!(e instanceof RateLimited)) throw e;
      }
      if (!allowed) {
        res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('token required\n');
        return;
      }
      const pieces = await metrics.render();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      for (const p of pieces) res.write(p);
      res.end();
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : http.createServer(onRequest);
  // Clients must give up an idle connection before the agent does: Node's 5 s default against undici's 4 s left
  // a race after large replies (the agent's idle clock starts when it has written the reply, the client's when it
  // has read it), and a request sent on a socket the agent was closing failed with "fetch failed" (the bench's
  // services.list of 10,000 services, once in six rounds). Idle sockets still close at shutdown (server.close()).
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  // every socket (HTTP or WebSocket) holds buffers: past this many, new ones are closed at once
  server.maxConnections = limits.connections;
  server.headersTimeout = KEEP_ALIVE_MS + 1000;

  // the largest message any role may send; each role's own limits are applied per call (ws-limits.ts)
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.wsMaxPayload });
  const wsConnections = new Counter();
  const onWsError = ({ error, path }: { error: TRPCError; path?: string | undefined }) => {
    if (error.code === 'UNAUTHORIZED' || error.code === 'TOO_MANY_REQUESTS') return; // logged by Auth
    if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ err: error.cause ?? error, path }, 'tRPC ws error');
  };
  wss.on('connection', (ws: WebSocket, req: http.IncomingMessage) => {
    const limiter = wsCallLimiter(ws, limits, log);
    getWSConnectionHandler({
      wss,
      router,
      experimental_encoder: limiter.encoder,
      createContext: async ({ req, res, info }) => {
        const ctx = await authenticate(req, info.connectionParams);
        const role = ctx.auth!.role;
        if (!wsConnections.take(role, limits.roles[role].wsConnections)) {
          throw domainToTRPC(new TooManyError(`more than ${limits.roles[role].wsConnections} WebSockets of the ${role} token are open`));
        }
        res.once('close', () => wsConnections.release(role));
        limiter.setRole(role);
        authedSockets.add(res);
        return ctx;
      },
      keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 5_000 },
      onError: onWsError,
    })(ws, req);
  });
  function broadcastReconnectNotification(): void {
    for (const c of wss.clients as Set<WebSocket>) {
      if (c.readyState === c.OPEN) c.send(JSON.stringify({ id: null, method: 'reconnect' }));
    }
  }

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const remote = remoteOf(req);
    if (url.pathname !== WS_PATH) return reject(socket, 404, 'Not Found');
    if (!originAllowed(req.headers.origin, opts.allowOrigins)) {
      log.warn({ remote, origin: req.headers.origin }, 'WebSocket upgrade from a disallowed origin refused');
      return reject(socket, 403, 'Forbidden');
    }
    // no address block here: the token comes after the upgrade (connection params), and a valid
    // one must pass even from an address that sent wrong ones; a wrong one is refused with 429 then
    wss.handleUpgrade(req, socket, head, (ws) => {
      metrics.wsClients.inc();
      ws.once('close', () => metrics.wsClients.dec());
      // a connection that never sends its token must not hold a socket forever
      const t = setTimeout(() => {
        if (!authedSockets.has(ws)) ws.close(4401, 'authentication timeout');
      }, opts.authTimeoutMs ?? 10_000);
      ws.once('close', () => clearTimeout(t));
      wss.emit('connection', ws, req);
    });
  });

  if ('socket' in opts.listen) {
    // a socket file left by a crashed agent would make listen() fail with EADDRINUSE
    if (existsSync(opts.listen.socket)) unlinkSync(opts.listen.socket);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('socket' in opts.listen) server.listen(opts.listen.socket, resolve);
    else server.listen(opts.listen.port, opts.listen.host, resolve);
  });
  if ('socket' in opts.listen) await chmod(opts.listen.socket, 0o660);

  const addr = server.address();
  let url: string, wsUrl: string | null, port: number | null;
  if (typeof addr === 'string' || addr === null) {
    url = `unix:${String(addr ?? '')}`;
    wsUrl = null;
    port = null;
  } else {
    const a = addr as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    url = `${opts.tls ? 'https' : 'http'}://${host}:${a.port}`;
    wsUrl = `${opts.tls ? 'wss' : 'ws'}://${host}:${a.port}${WS_PATH}`;
    port = a.port;
  }
  log.info({ url, wsPath: WS_PATH, allowOrigins: opts.allowOrigins }, 'agent listening');

  let closing: Promise<void> | null = null;
  return {
    url, wsUrl, port, metrics,
    close() {
      closing ??= (async () => {
        // clients reconnect (to this agent once restarted) instead of treating the close as an error
        broadcastReconnectNotification();
        await new Promise((r) => setTimeout(r, 100));
        for (const c of wss.clients as Set<WebSocket>) c.close(1001, 'agent shutting down');
        wss.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        log.info('agent stopped');
      })();
      return closing;
    },
  };
}
