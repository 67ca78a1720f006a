/**
 * The worker's side of services-off-thread.ts: fetches a director's table in compact form
 * (services.listCompact, about a twentieth of services.list's JSON), decodes it into services.list's
 * objects there, and hands the services over in slices, each its own message, so no single task of the
 * page deserialises them all. A slice goes when the page asks for it (NEXT): messages sent ahead would be
 * delivered to the page several in one task. An agent without listCompact (older), or whose compact form
 * is of another version than this console reads (console and agents are upgraded one at a time), is read
 * with services.list, whose objects every version shares.
 */
import { COMPACT_VERSION, CompactDecodeError, decodeCompactTable } from '@/lib/agent/table-compact';

/** base: the director's tRPC path (`/api/trpc/<id>`). */
export type ServicesWorkerIn = { base: string; slice: number };
/** The page's request for the next slice. */
export const NEXT = 'next';
export type ServicesWorkerOut =
  | { kind: 'slice'; services: unknown[] }
  | { kind: 'done'; count: number }
  | { kind: 'error'; message: string; code: string | null };

/** A tRPC answer, or the console's own refusal (`{ error: 'Not signed in…' }`). */
interface TrpcBody { result?: { data?: unknown }; error?: string | { message?: string; data?: { code?: string } } }

/** One GET of a procedure: its data, or what to post when it failed. */
async function query(url: string): Promise<{ data: unknown } | { failed: ServicesWorkerOut & { kind: 'error' } }> {
  const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  const body = (await res.json()) as TrpcBody;
  if (!body.error && body.result && 'data' in body.result) return { data: body.result.data };
  const err = typeof body.error === 'string' ? { message: body.error } : body.error;
  return { failed: { kind: 'error', message: err?.message ?? `${url} answered HTTP ${res.status} without data`, code: err?.data?.code ?? (res.status === 401 ? 'UNAUTHORIZED' : null) } };
}

/** A compact table of a version this console does not read (the decoder refuses anything else that is wrong). */
const otherVersion = (data: unknown) => typeof data === 'object' && data !== null && 'c' in data
  && typeof data.c === 'number' && data.c !== COMPACT_VERSION;

/** The director's table as services.list's objects: compact when the agent has it, plain from an older one. */
async function table(base: string): Promise<unknown[] | { failed: ServicesWorkerOut & { kind: 'error' } }> {
  const compact = await query(`${base}/services.listCompact`);
  if ('data' in compact) {
    if (!otherVersion(compact.data)) return decodeCompactTable(compact.data);
  } else if (compact.failed.code !== 'NOT_FOUND') return compact;
  const plain = await query(`${base}/services.list`);
  if ('failed' in plain) return plain;
  return Array.isArray(plain.data) ? plain.data : { failed: { kind: 'error', message: 'services.list answered without a list', code: null } };
}

/** `next` resolves when the page asks for the next slice. */
export async function readServices({ base, slice }: ServicesWorkerIn, post: (m: ServicesWorkerOut) => void, next: () => Promise<void>): Promise<void> {
  try {
    const list = await table(base);
    if (!Array.isArray(list)) {
      post(list.failed);
      return;
    }
    for (let i = 0; i < list.length; i += slice) {
      if (i > 0) await next();
      post({ kind: 'slice', services: list.slice(i, i + slice) });
    }
    post({ kind: 'done', count: list.length });
  } catch (err) {
    // a table the agent sent that does not decode is the agent's fault, said as such
    const message = err instanceof Error ? err.message : String(err);
    post({ kind: 'error', message: err instanceof CompactDecodeError ? `the director sent a table that does not read: ${message}` : message, code: null });
  }
}
