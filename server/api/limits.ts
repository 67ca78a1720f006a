/**
 * Resource limits of the agent's API, so that no token (a viewer's least of
 * all) can exhaust its memory or its event loop: request bodies, batches,
 * connections, and per WebSocket the calls in flight and the bytes waiting to
 * be sent. The systemd unit gives the agent MemoryMax=300M; these bounds keep
 * the worst case of every client together well under it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AGENT_BATCH_CALLS } from '@/lib/agent/limits';
import type { Role } from '@/lib/auth/identity';

export interface RoleLimits {
  /** largest request body (bytes) */
  bodyBytes: number;
  /** HTTP requests of one token being answered at once */
  httpInFlight: number;
  /** WebSocket connections of one token */
  wsConnections: number;
  /** queries and mutations sent on one WebSocket and not yet answered */
  wsInFlight: number;
  /** subscriptions open on one WebSocket */
  wsSubscriptions: number;
  /** bytes queued for one WebSocket that its client has not read yet; past this it is closed */
  wsBufferedBytes: number;
}

export interface AgentLimits {
  /** calls in one tRPC HTTP batch (and in one WebSocket message) */
  batchCalls: number;
  /** TCP connections at once, HTTP and WebSocket together */
  connections: number;
  /** largest WebSocket message, any role (per-role bodies are checked after authentication) */
  wsMaxPayload: number;
  /** limits for requests that carry no valid token yet */
  anonymousBodyBytes: number;
  /** request bodies being read at once, all tokens together (a chunked one counts as its role's largest) */
  bodyBudgetBytes: number;
  roles: Record<Role, RoleLimits>;
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: AgentLimits = {
  batchCalls: AGENT_BATCH_CALLS,
  connections: 512,
  wsMaxPayload: 8 * MiB,
  anonymousBodyBytes: 64 * 1024,
  bodyBudgetBytes: 64 * MiB,
  roles: {
    // an operator restores whole snapshots (a 10,000-service table is about 2 MB of ipvsadm text)
    operator: { bodyBytes: 8 * MiB, httpInFlight: 64, wsConnections: 128, wsInFlight: 8, wsSubscriptions: 64, wsBufferedBytes: 16 * MiB },
    viewer: { bodyBytes: 1 * MiB, httpInFlight: 64, wsConnections: 64, wsInFlight: 4, wsSubscriptions: 32, wsBufferedBytes: 8 * MiB },
  },
};

/** Merge partial overrides (tests, future flags) over the defaults. */
export function resolveLimits(over?: Partial<Omit<AgentLimits, 'roles'>> & { roles?: Partial<Record<Role, Partial<RoleLimits>>> }): AgentLimits {
  return {
    ...DEFAULT_LIMITS,
    ...over,
    roles: {
      operator: { ...DEFAULT_LIMITS.roles.operator, ...over?.roles?.operator },
      viewer: { ...DEFAULT_LIMITS.roles.viewer, ...over?.roles?.viewer },
    },
  };
}

/** A count per key with a ceiling; `take` says whether there was room. */
export class Counter {
  private readonly counts = new Map<string, number>();

  take(key: string, max: number): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= max) return false;
    this.counts.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = (this.counts.get(key) ?? 0) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

/** A tRPC-shaped error reply, so clients show the message like any other error. */
export function sendTrpcError(res: ServerResponse, status: 413 | 429, message: string, close = false): void {
  const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : 'TOO_MANY_REQUESTS';
  const body = JSON.stringify({ error: { message, code: status === 413 ? -32013 : -32029, data: { code, httpStatus: status } } });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    // the rest of an oversized body is not parsed: the connection cannot carry another request after it
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(body);
}

/** How long, and how many more bytes, a refused upload is read and dropped before the socket is cut. */
export const LINGER_MS = 1_000;
export const LINGER_BYTES = 16 * 1024 * 1024;

/**
 * After a refusal the client is usually still sending. Closing the socket
 * with its data unread makes the kernel answer with a reset, which throws
 * away the 413 in the client's receive queue: it sees "connection reset" or
 * EPIPE instead of the reason (seen in the lab). So the rest of the body is
 * read and dropped, for a bounded time and byte count, like a web server's
 * lingering close; the socket closes cleanly once the body has all come,
 * else it is cut at the bound.
 */
export function lingerThenClose(req: IncomingMessage): void {
  const socket = req.socket;
  let dropped = 0;
  const cut = () => socket.destroy();
  const timer = setTimeout(cut, LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  req.on('data', (b: Buffer) => { dropped += b.length; if (dropped > LINGER_BYTES) cut(); });
  req.once('end', () => { clearTimeout(timer); socket.end(); });
  // the reply says Connection: close (a client must not reuse this socket), on which node would
  // destroy the socket as soon as the reply is out: a half-close instead, the timer does the rest
  (socket as unknown as { destroySoon: () => void }).destroySoon = () => { socket.end(); };
  req.resume();
}

/** Content-Length as a number, or null when absent (chunked) or malformed. */
export function declaredLength(req: IncomingMessage): number | null {
  const v = req.headers['content-length'];
  if (v === undefined || !/^\d+$/.test(v)) return null;
  return Number(v);
}

/**
 * Refuse a body that Content-Length says is too large before reading any of
 * it. A body without a length (chunked) is counted as it streams by tRPC's
 * maxBodySize, which fails it with 413 as soon as it passes the limit.
 * Returns false when the request was refused.
 */
export function guardDeclaredBody(req: IncomingMessage, res: ServerResponse, max: number): boolean {
  const declared = declaredLength(req);
  if (declared === null || declared <= max) return true;
  // reading starts before the reply, so node does not dump the body and close the socket itself
  lingerThenClose(req);
  sendTrpcError(res, 413, `the request body (${declared} bytes) is larger than the ${max} bytes this token may send`, true);
  return false;
}
