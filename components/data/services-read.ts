/**
 * The worker's side of services-off-thread.ts: fetches a director's services.list, parses the JSON there,
 * and hands the services over in slices, each its own message, so no single task of the page
 * deserialises them all. A slice goes when the page asks for it (NEXT): messages sent ahead would be
 * delivered to the page several in one task.
 */
export type ServicesWorkerIn = { url: string; slice: number };
/** The page's request for the next slice. */
export const NEXT = 'next';
export type ServicesWorkerOut =
  | { kind: 'slice'; services: unknown[] }
  | { kind: 'done'; count: number }
  | { kind: 'error'; message: string; code: string | null };

/** A tRPC answer, or the console's own refusal (`{ error: 'Not signed in…' }`). */
interface TrpcBody { result?: { data?: unknown }; error?: string | { message?: string; data?: { code?: string } } }

/** `next` resolves when the page asks for the next slice. */
export async function readServices({ url, slice }: ServicesWorkerIn, post: (m: ServicesWorkerOut) => void, next: () => Promise<void>): Promise<void> {
  try {
    const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    const body = (await res.json()) as TrpcBody;
    const list = body.result?.data;
    if (body.error || !Array.isArray(list)) {
      const err = typeof body.error === 'string' ? { message: body.error } : body.error;
      post({ kind: 'error', message: err?.message ?? `services.list answered HTTP ${res.status} without a list`, code: err?.data?.code ?? (res.status === 401 ? 'UNAUTHORIZED' : null) });
      return;
    }
    for (let i = 0; i < list.length; i += slice) {
      if (i > 0) await next();
      post({ kind: 'slice', services: list.slice(i, i + slice) });
    }
    post({ kind: 'done', count: list.length });
  } catch (err) {
    post({ kind: 'error', message: err instanceof Error ? err.message : String(err), code: null });
  }
}
