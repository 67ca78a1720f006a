import { afterEach, describe, expect, it, vi } from 'vitest';
import { NEXT, readServices, type ServicesWorkerIn, type ServicesWorkerOut } from './services-read';
import { ServicesReadError, servicesOffThread } from './services-off-thread';

/** The worker's side run in this thread: `fetch` answers `body` with `status`; what it posts. */
function workerAnswering(status: number, body: unknown): (m: ServicesWorkerIn) => Promise<ServicesWorkerOut[]> {
  vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(body), { status })));
  return async (m) => {
    const posted: ServicesWorkerOut[] = [];
    await readServices(m, (x) => posted.push(x), async () => {});
    return posted;
  };
}

afterEach(() => vi.unstubAllGlobals());

describe('readServices (the worker\'s side)', () => {
  it('hands the list over in slices, then says how many', async () => {
    const run = workerAnswering(200, { result: { data: [1, 2, 3, 4, 5] } });
    expect(await run({ url: '/api/trpc/lab/services.list', slice: 2 })).toEqual([
      { kind: 'slice', services: [1, 2] }, { kind: 'slice', services: [3, 4] }, { kind: 'slice', services: [5] }, { kind: 'done', count: 5 },
    ]);
  });

  it('sends each slice after the first only when the page asks for it', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ result: { data: [1, 2, 3, 4, 5] } }))));
    const posted: ServicesWorkerOut[] = [];
    const asks: (() => void)[] = [];
    const done = readServices({ url: '/x', slice: 2 }, (x) => posted.push(x), () => new Promise((r) => asks.push(r)));
    await vi.waitFor(() => expect(posted).toEqual([{ kind: 'slice', services: [1, 2] }]));
    await new Promise((r) => setTimeout(r, 20));
    expect(posted.length).toBe(1);
    asks.shift()!();
    await vi.waitFor(() => expect(posted.length).toBe(2));
    asks.shift()!();
    await done;
    expect(posted.slice(1)).toEqual([{ kind: 'slice', services: [3, 4] }, { kind: 'slice', services: [5] }, { kind: 'done', count: 5 }]);
  });

  it('passes on a tRPC error and the console\'s own refusal with their messages', async () => {
    const trpc = workerAnswering(500, { error: { message: 'cannot read the IPVS table', data: { code: 'INTERNAL_SERVER_ERROR' } } });
    expect(await trpc({ url: '/x', slice: 2 })).toEqual([{ kind: 'error', message: 'cannot read the IPVS table', code: 'INTERNAL_SERVER_ERROR' }]);
    const console401 = workerAnswering(401, { error: 'Not signed in. Reload the page to sign in again.' });
    expect(await console401({ url: '/x', slice: 2 })).toEqual([{ kind: 'error', message: 'Not signed in. Reload the page to sign in again.', code: 'UNAUTHORIZED' }]);
  });
});

/** A Worker that answers the page's n-th message with `replies[n]`, one message (task) each. */
function fakeWorker(replies: ServicesWorkerOut[][]) {
  const made: { url: string; terminated: boolean; got: unknown[] }[] = [];
  class W {
    onmessage: ((e: MessageEvent) => void) | null = null;
    onerror: ((e: ErrorEvent) => void) | null = null;
    readonly rec = { url: '', terminated: false, got: [] as unknown[] };
    constructor(url: URL) {
      this.rec.url = String(url);
      made.push(this.rec);
    }
    postMessage(m: unknown) {
      this.rec.got.push(m);
      for (const r of replies[this.rec.got.length - 1] ?? []) setTimeout(() => { if (!this.rec.terminated) this.onmessage?.({ data: r } as MessageEvent); });
    }
    terminate() {
      this.rec.terminated = true;
    }
  }
  vi.stubGlobal('Worker', W);
  return made;
}

describe('servicesOffThread', () => {
  it('is null without workers, so the caller reads through tRPC', () => {
    vi.stubGlobal('Worker', undefined);
    expect(servicesOffThread('lab')).toBeNull();
  });

  it('joins the slices in order, asks for the director\'s list and ends the worker', async () => {
    const made = fakeWorker([[{ kind: 'slice', services: [{ a: 1 }, { a: 2 }] }], [{ kind: 'slice', services: [{ a: 3 }] }, { kind: 'done', count: 3 }]]);
    expect(await servicesOffThread('lab one')).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    // the next slice is asked for once the last is taken
    expect(made[0]!.got).toEqual([{ url: '/api/trpc/lab%20one/services.list', slice: 100 }, NEXT, NEXT]);
    expect(made[0]!.terminated).toBe(true);
  });

  it('rejects with the message and code the worker gave', async () => {
    fakeWorker([[{ kind: 'error', message: 'Not signed in.', code: 'UNAUTHORIZED' }]]);
    const e = await servicesOffThread('lab')!.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ServicesReadError);
    expect(e).toMatchObject({ message: 'Not signed in.', code: 'UNAUTHORIZED' });
  });

  it('stops the worker when the query is cancelled', async () => {
    const made = fakeWorker([]);
    const ac = new AbortController();
    const p = servicesOffThread('lab', ac.signal)!;
    ac.abort();
    await expect(p).rejects.toBeDefined();
    expect(made[0]!.terminated).toBe(true);
  });
});
