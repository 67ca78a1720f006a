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

/** Request headers passed to the agent; everything else (cookies!) stays here. */
const PASS_REQUEST_HEADERS = ['content-type', 'accept', 'trpc-accept', 'content-length', 'x-trpc-source', 'last-event-id'];
const PASS_RESPONSE_HEADERS = ['content-type', 'cache-control', 'vary', 'transfer-encoding', 'content-length'];

/** `/api/trpc/<id>/<procs>` → { id, rest: '<procs>' } or null. */
export function parseTrpcPath(pathname: string): { id: string; rest: string } | null {
  const m = /^\/api\/trpc\/([^/]+)\/(.+)$/.exec(pathname);
  if (!m) return null;
  return { id: decodeURIComponent(m[1]!), rest: m[2]! };
}

export function forwardHttp(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  agent: AgentConfig,
  role: Role,
  rest: string,
  search: string,
): void {
  const target = new URL(`${agent.url}${agent.trpcPath}/${rest}${search}`);
  const headers: http.OutgoingHttpHeaders = { authorization: `Bearer ${tokenFor(agent, role).token}` };
  for (const h of PASS_REQUEST_HEADERS) {
    const v = req.headers[h];
    if (v !== undefined) headers[h] = v;
  }
  const lib = target.protocol === 'https:' ? https : http;
  const up = lib.request(target, { method: req.method, headers, timeout: 60_000 }, (upRes) => {
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
  return {
    error: {
      message: `Director '${agent.name}' is unreachable at ${agent.url} (${err.message}). Check that its agent is running and that the console's DIRECTOR_AGENTS url is right.`,
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

/**
 * Accept the browser's socket and pipe it to a fresh socket to the agent.
 * Messages from the browser that arrive before the agent answers are queued.
 * When either side goes away the other is closed with a code the tRPC client
 * treats as "reconnect".
 */
export function forwardWebSocket(req: http.IncomingMessage, socket: Duplex, head: Buffer, agent: AgentConfig, role: Role): void {
  wss.handleUpgrade(req, socket, head, (client) => {
    const upstream = new WebSocket(agentWsUrl(agent), {
      headers: { authorization: `Bearer ${tokenFor(agent, role).token}` },
      handshakeTimeout: 10_000,
      maxPayload: 64 * 1024 * 1024,
    });
    const queue: Array<{ data: RawData; binary: boolean }> = [];
    client.on('message', (data, binary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary });
      else if (queue.length < 1000) queue.push({ data, binary });
      else client.close(1013, 'agent not ready');
    });
    upstream.on('open', () => {
      for (const m of queue.splice(0)) upstream.send(m.data, { binary: m.binary });
    });
    upstream.on('message', (data, binary) => {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary });
    });
    const closeClient = (code: number, reason: string) => {
      if (client.readyState === WebSocket.OPEN || client.readyState === WebSocket.CONNECTING) client.close(code, reason.slice(0, 120));
    };
    upstream.on('close', (code, reason) => closeClient(code === 1005 || code === 1006 ? 1011 : code, reason.toString() || 'agent closed'));
    upstream.on('error', (err) => closeClient(1011, `agent unreachable: ${err.message}`));
    upstream.on('unexpected-response', (_r, res) => closeClient(1011, `agent refused the socket (${res.statusCode})`));
    client.on('close', () => {
      if (upstream.readyState === WebSocket.OPEN || upstream.readyState === WebSocket.CONNECTING) upstream.terminate();
    });
    client.on('error', () => upstream.terminate());
  });
}

export function closeAllSockets(): void {
  for (const c of wss.clients) c.close(1012, 'console restarting');
}
