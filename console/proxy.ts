/**
 * Forwarding of tRPC from the browser to an agent, over HTTP and WebSocket.
 * The browser's cookies never reach the agent; the agent sees only the
 * console's bearer token for the signed-in user's role.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { tokenFor, type AgentConfig, type Role } from './config';
import { PinMismatch, pinnedAgent } from './pinned';
import { ACTOR_HEADER, signActor } from '../lib/auth/actor';

const pinnedAgents = new WeakMap<AgentConfig, https.Agent>();
/** The https.Agent that checks this director's pinned certificate, or undefined (plain http, or CA-verified https). */
export function agentFor(agent: AgentConfig): https.Agent | undefined {
  if (!agent.fingerprint || !agent.url.startsWith('https:')) return undefined;
  let a = pinnedAgents.get(agent);
  if (!a) pinnedAgents.set(agent, (a = pinnedAgent({ label: `agent ${agent.name}`, url: agent.url, fingerprint: agent.fingerprint })));
  return a;
}

/** Who is acting: the signed-in user, and the session their sockets belong to. */
export interface Actor { sid: string; user: string; role: Role }

/**
 * Headers for a call to the agent on behalf of this user: the role's token, and the
 * user's name signed with that token (lib/auth/actor.ts) so the agent's journal names
 * the person. Sent on every HTTP call and on each WebSocket connect.
 */
export async function agentHeaders(agent: AgentConfig, who: Actor, now = Date.now()): Promise<Record<string, string>> {
  // The agent knows two roles, those of its tokens, and checks the header names the token's
  // (an admin acts with the operator token; an operator is a viewer where the console holds no operator token).
  const { token, role } = tokenFor(agent, who.role);
  return { authorization: `Bearer ${token}`, [ACTOR_HEADER]: await signActor(token, { user: who.user, role }, now) };
}

/** Request headers passed to the agent; everything else (cookies!) stays here. */
const PASS_REQUEST_HEADERS = ['content-type', 'accept', 'trpc-accept', 'content-length', 'x-trpc-source', 'last-event-id'];
const PASS_RESPONSE_HEADERS = ['content-type', 'cache-control', 'vary', 'transfer-encoding', 'content-length'];

/** `/api/trpc/<id>/<procs>` → { id, rest: '<procs>' } or null. */
export function parseTrpcPath(pathname: string): { id: string; rest: string } | null {
  const m = /^\/api\/trpc\/([^/]+)\/(.+)$/.exec(pathname);
  if (!m) return null;
  return { id: decodeURIComponent(m[1]!), rest: m[2]! };
}

export async function forwardHttp(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  agent: AgentConfig,
  who: Actor,
  rest: string,
  search: string,
): Promise<void> {
  const target = new URL(`${agent.url}${agent.trpcPath}/${rest}${search}`);
  const headers: http.OutgoingHttpHeaders = await agentHeaders(agent, who);
  for (const h of PASS_REQUEST_HEADERS) {
    const v = req.headers[h];
    if (v !== undefined) headers[h] = v;
  }
  const lib = target.protocol === 'https:' ? https : http;
  const via = agentFor(agent);
  const up = lib.request(target, { method: req.method, headers, timeout: 60_000, ...(via ? { agent: via } : {}) }, (upRes) => {
    const out: http.OutgoingHttpHeaders = {};
    for (const h of PASS_RESPONSE_HEADERS) {
      const v = upRes.headers[h];
      if (v !== undefined) out[h] = v;
    }
    res.writeHead(upRes.statusCode ?? 502, out);
    upRes.pipe(res);
  });
  up.on('timeout', () => up.destroy(new Error('agent did not answer within 60 s')));
  up.on('error', (err) => {
    if (res.headersSent) {
      res.destroy(err);
      return;
    }
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify(agentUnreachable(agent, err)));
  });
  req.pipe(up);
  res.on('close', () => up.destroy());
}

/** A tRPC-shaped error body, so the browser's tRPC client shows a message that says what to do. */
export function agentUnreachable(agent: AgentConfig, err: Error): unknown {
  if (err instanceof PinMismatch) {
    return { error: { message: `Director '${agent.name}': ${err.message}`, code: -32603, data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 502 } } };
  }
  return {
    error: {
      message: `Director '${agent.name}' is unreachable at ${agent.url} (${err.message}). Check that its agent is running and that its url in the console's configuration (console.toml [[agents]], or DIRECTOR_AGENTS in the lab) is right.`,
      code: -32603,
      data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 502 },
    },
  };
}

export function agentWsUrl(agent: AgentConfig): string {
  const u = new URL(`${agent.url}${agent.wsPath}`);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
/** Open browser sockets by session, so a session that ends takes its sockets with it. */
const bySession = new Map<string, Set<WebSocket>>();

/** Closes the browser sockets of a session (and with them their agent sockets); returns how many. */
export function closeSessionSockets(sid: string, why: string): number {
  const set = bySession.get(sid);
  if (!set) return 0;
  bySession.delete(sid);
  // 4401: the app's own code for "session ended"; the client then stops retrying and reloads to sign in.
  for (const c of set) c.close(4401, why.slice(0, 120));
  return set.size;
}

/**
 * Open the socket to the agent first and accept the browser's upgrade only
 * once the agent has accepted ours: a browser never sees a socket "open" to a
 * director that is down (the live indicator would flicker to Live), and gets
 * a 502 instead, which its client retries with backoff.
 */
export async function forwardWebSocket(req: http.IncomingMessage, socket: Duplex, head: Buffer, agent: AgentConfig, who: Actor, stillValid: () => boolean): Promise<void> {
  const upstream = new WebSocket(agentWsUrl(agent), {
    headers: await agentHeaders(agent, who),
    handshakeTimeout: 10_000,
    ...(agentFor(agent) ? { agent: agentFor(agent) } : {}),
    maxPayload: 64 * 1024 * 1024,
  });
  let accepted = false;
  const refuse = (why: string) => {
    if (accepted || socket.destroyed) return;
    socket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${why}\n`);
  };
  socket.on('close', () => {
    if (!accepted) upstream.terminate();
  });
  upstream.on('unexpected-response', (_r, res) => {
    refuse(`agent refused the socket (${res.statusCode})`);
    upstream.terminate();
  });
  upstream.on('error', (err) => refuse(`agent unreachable: ${err.message}`));
  upstream.on('open', () => {
    // The session may have ended while the agent was answering.
    if (socket.destroyed || !stillValid()) {
      refuse('session ended');
      upstream.terminate();
      return;
    }
    accepted = true;
    wss.handleUpgrade(req, socket, head, (client) => {
      let set = bySession.get(who.sid);
      if (!set) bySession.set(who.sid, (set = new Set()));
      set.add(client);
      client.on('close', () => {
        set.delete(client);
        if (set.size === 0 && bySession.get(who.sid) === set) bySession.delete(who.sid);
      });
      client.on('message', (data: RawData, binary: boolean) => {
        if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary });
      });
      upstream.on('message', (data, binary) => {
        if (client.readyState === WebSocket.OPEN) client.send(data, { binary });
      });
      upstream.on('close', (code, reason) => {
        if (client.readyState === WebSocket.OPEN) client.close(code === 1005 || code === 1006 ? 1011 : code, (reason.toString() || 'agent closed').slice(0, 120));
      });
      upstream.on('error', () => {
        if (client.readyState === WebSocket.OPEN) client.close(1011, 'agent connection failed');
      });
      client.on('close', () => upstream.close());
      client.on('error', () => upstream.terminate());
    });
  });
}

export function closeAllSockets(): void {
  for (const c of wss.clients) c.close(1012, 'console restarting');
}
