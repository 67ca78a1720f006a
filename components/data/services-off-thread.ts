/**
 * services.list for the browser, read in a worker: at 10,000 services building its objects on the
 * page's thread is one task of several hundred ms. The worker fetches the compact form, decodes it and
 * hands the objects over in slices of SLICE services, one message (one short task) each, the next when
 * the page has taken the last.
 */
import type { ServedService } from '@/lib/agent/events';
import { NEXT, type ServicesWorkerIn, type ServicesWorkerOut } from './services-read';

const SLICE = 100;

/** The error a tRPC call would give: its message (errorText reads it) and the tRPC code. */
export class ServicesReadError extends Error {
  constructor(message: string, readonly code: string | null) {
    super(message);
  }
}

/** The director's services.list, as the tRPC client would return it; null where workers are missing (the caller asks tRPC). */
export function servicesOffThread(directorId: string, signal?: AbortSignal): Promise<ServedService[]> | null {
  if (typeof Worker === 'undefined') return null;
  const worker = new Worker(new URL('./services-worker.ts', import.meta.url), { type: 'module' });
  return new Promise<ServedService[]>((resolve, reject) => {
    const out: ServedService[] = [];
    const end = () => {
      worker.terminate();
      signal?.removeEventListener('abort', abort);
    };
    const abort = () => {
      end();
      reject(signal?.reason ?? new DOMException('aborted', 'AbortError'));
    };
    signal?.addEventListener('abort', abort, { once: true });
    worker.onmessage = (e: MessageEvent<ServicesWorkerOut>) => {
      const m = e.data;
      if (m.kind === 'slice') {
        for (const s of m.services) out.push(s as ServedService);
        worker.postMessage(NEXT);
        return;
      }
      end();
      if (m.kind === 'done') resolve(out);
      else reject(new ServicesReadError(m.message, m.code));
    };
    worker.onerror = (e) => {
      end();
      reject(new ServicesReadError(e.message || 'the services reader failed', null));
    };
    const msg: ServicesWorkerIn = { base: `/api/trpc/${encodeURIComponent(directorId)}`, slice: SLICE };
    worker.postMessage(msg);
  });
}
