/**
 * Per-WebSocket limits, applied where tRPC decodes each incoming message and
 * encodes each reply (its `experimental_encoder` hook, one per connection):
 * calls beyond the socket's share of queries and mutations in flight, or of
 * open subscriptions, are answered TOO_MANY_REQUESTS at once and never run;
 * a socket whose client stops reading is closed once the bytes queued for it
 * pass a bound, instead of the agent holding every reply in memory (1,500
 * exports over one socket ended in V8's heap-limit abort, issue 23 #3).
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Encoder } from '@trpc/server/adapters/ws';
import type { Role } from '@/lib/auth/identity';
import type { AgentLimits } from './limits';

type Id = string | number;

interface CallMessage {
  id?: Id | null;
  jsonrpc?: '2.0';
  method?: string;
  params?: { path?: string };
}

function bump(m: Map<Id, number>, id: Id, by: 1 | -1): void {
  const n = (m.get(id) ?? 0) + by;
  if (n <= 0) m.delete(id);
  else m.set(id, n);
}

export function wsCallLimiter(ws: WebSocket, limits: AgentLimits, log: Logger): { encoder: Encoder; setRole(role: Role): void } {
  // until the token is known (it may come in the first message), the strictest role's limits apply
  let role: Role = 'viewer';
  const calls = new Map<Id, number>();
  const subs = new Map<Id, number>();
  let nCalls = 0;
  let nSubs = 0;
  let closing = false;

  function refuse(m: CallMessage, message: string): void {
    if (m.id === undefined || m.id === null) return;
    ws.send(JSON.stringify({
      id: m.id,
      ...(m.jsonrpc ? { jsonrpc: m.jsonrpc } : {}),
      error: { message, code: -32029, data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, ...(m.params?.path ? { path: m.params.path } : {}) } },
    }));
  }

  /** Answer every call in an oversized message with PAYLOAD_TOO_LARGE; their ids are found without parsing it whole. */
  function refuseMessage(data: string | ArrayBuffer | Uint8Array, message: string): void {
    const text = typeof data === 'string' ? data
      : data instanceof Uint8Array ? Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1') : Buffer.from(data).toString('latin1');
    // ids are numbers or short strings near the start of each call object; scan at most the first 64 KiB
    const head = text.slice(0, 64 * 1024);
    const ids = new Set<string>();
    for (const m of head.matchAll(/"id":\s*(\d{1,15}|"[^"\\]{0,64}")/g)) ids.add(m[1]!);
    for (const raw of ids) {
      const id = raw.startsWith('"') ? raw.slice(1, -1) : Number(raw);
      ws.send(JSON.stringify({ id, error: { message, code: -32013, data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 } } }));
    }
  }

  const encoder: Encoder = {
    decode(data) {
      const lim = limits.roles[role];
      const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
      if (size > lim.bodyBytes) {
        // the same bound as an HTTP body: a viewer cannot send over the socket what it may not POST
        refuseMessage(data, `the message (${size} bytes) is larger than the ${lim.bodyBytes} bytes the ${role} token may send`);
        return [];
      }
      const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
      const parsed: unknown = JSON.parse(text);
      const list: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
      const keep: unknown[] = [];
      for (const [i, raw] of list.entries()) {
        const m = (typeof raw === 'object' && raw !== null ? raw : {}) as CallMessage;
        const id = m.id;
        if (i >= limits.batchCalls && (m.method === 'query' || m.method === 'mutation' || m.method === 'subscription')) {
          refuse(m, `more than ${limits.batchCalls} calls in one message`);
          continue;
        }
        if ((m.method === 'query' || m.method === 'mutation') && id !== undefined && id !== null) {
          if (nCalls >= lim.wsInFlight) {
            refuse(m, `more than ${lim.wsInFlight} calls of the ${role} token in flight on this WebSocket; wait for answers`);
            continue;
          }
          nCalls++;
          bump(calls, id, 1);
        } else if (m.method === 'subscription' && id !== undefined && id !== null) {
          if (nSubs >= lim.wsSubscriptions) {
            refuse(m, `more than ${lim.wsSubscriptions} subscriptions of the ${role} token open on this WebSocket`);
            continue;
          }
          nSubs++;
          bump(subs, id, 1);
        }
        keep.push(raw);
      }
      return Array.isArray(parsed) ? keep : (keep[0] ?? []);
    },

    encode(msg) {
      const m = msg as { id?: Id | null; error?: unknown; result?: { type?: string } };
      if (m.id !== undefined && m.id !== null) {
        if (calls.has(m.id) && (m.error !== undefined || m.result?.type === 'data')) {
          bump(calls, m.id, -1);
          nCalls--;
        } else if (subs.has(m.id) && (m.error !== undefined || m.result?.type === 'stopped')) {
          bump(subs, m.id, -1);
          nSubs--;
        }
      }
      const out = JSON.stringify(msg);
      const bound = limits.roles[role].wsBufferedBytes;
      if (!closing && ws.bufferedAmount + out.length > bound) {
        // the client is not reading: drop it rather than hold its replies (a close frame would queue behind them)
        closing = true;
        log.warn({ role, buffered: ws.bufferedAmount, bound }, 'WebSocket client does not read its replies: closed');
        setImmediate(() => ws.terminate());
      }
      return closing ? '' : out;
    },
  };

  return { encoder, setRole: (r) => { role = r; } };
}
