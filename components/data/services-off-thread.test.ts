import { afterEach, describe, expect, it, vi } from 'vitest';
import { NEXT, readServices, type ServicesWorkerIn, type ServicesWorkerOut } from './services-read';
import { ServicesReadError, servicesOffThread } from './services-off-thread';
import { encodeCompactTable } from '@/lib/agent/table-compact';
import { DEFAULT_FLAGS, type ServiceEntry } from '@/lib/ipvs/model';

/** The worker's side run in this thread: `fetch` answers each URL with answer(url); what it posts, and the URLs asked. */
function workerAnswering(answer: (url: string) => [number, unknown]): (m: ServicesWorkerIn) => Promise<{ posted: ServicesWorkerOut[]; asked: string[] }> {
  const asked: string[] = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string) => {
    asked.push(url);
    const [status, body] = answer(url);
    return new Response(JSON.stringify(body), { status });
  }));
  return async (m) => {
    const posted: ServicesWorkerOut[] = [];
    await readServices(m, (x) => posted.push(x), async () => {});
    return { posted, asked };
  };
}

const ZERO = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
/** n services as the agent reads them, one real server each. */
const entries = (n: number): ServiceEntry[] => Array.from({ length: n }, (_, i) => ({
  key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.0.0.${i + 1}`, port: 80 }, scheduler: 'wlc', flags: { ...DEFAULT_FLAGS },
  timeout: 0, netmask: '255.255.255.255', pe: null, stats: { ...ZERO, conns: i },
  destinations: [{ family: 'inet', address: '10.1.0.1', port: 80, forward: 'dr', weight: i, upperThreshold: 0, lowerThreshold: 0,
    tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' }, activeConns: 1, inactiveConns: 0, persistentConns: 0, stats: { ...ZERO } }],
}));
const AT = 1_760_000_000_000;
const compact = (n: number) => encodeCompactTable(AT, entries(n), () => AT);
const served = (n: number) => entries(n).map((e) => ({ ...e, readAt: { config: AT, stats: AT } }));

afterEach(() => vi.unstubAllGlobals());

describe('readServices (the worker\'s side)', () => {
  it('reads the compact table, decodes it into services.list\'s objects and hands them over in slices, then says how many', async () => {
    const run = workerAnswering(() => [200, { result: { data: compact(5) } }]);
    const { posted, asked } = await run({ base: '/api/trpc/lab', slice: 2 });
    const all = served(5);
    expect(posted).toEqual([
      { kind: 'slice', services: all.slice(0, 2) }, { kind: 'slice', services: all.slice(2, 4) }, { kind: 'slice', services: all.slice(4) }, { kind: 'done', count: 5 },
    ]);
    expect(asked).toEqual(['/api/trpc/lab/services.listCompact']);
  });

  it('reads services.list from an agent without listCompact (older), and from nothing else on other errors', async () => {
    const old = workerAnswering((url) => url.endsWith('listCompact')
      ? [404, { error: { message: 'No procedure found on path "services.listCompact"', data: { code: 'NOT_FOUND' } } }]
      : [200, { result: { data: served(3) } }]);
    const { posted, asked } = await old({ base: '/api/trpc/lab', slice: 2 });
    expect(posted).toEqual([{ kind: 'slice', services: served(3).slice(0, 2) }, { kind: 'slice', services: served(3).slice(2) }, { kind: 'done', count: 3 }]);
    expect(asked).toEqual(['/api/trpc/lab/services.listCompact', '/api/trpc/lab/services.list']);
  });

  it('reads services.list from an agent whose compact form is of another version (upgraded before or after the console)', async () => {
    for (const c of [1, 3]) {
      const other = workerAnswering((url) => url.endsWith('listCompact')
        ? [200, { result: { data: { ...compact(3), c } } }]
        : [200, { result: { data: served(3) } }]);
      const { posted, asked } = await other({ base: '/api/trpc/lab', slice: 5 });
      expect(posted).toEqual([{ kind: 'slice', services: served(3) }, { kind: 'done', count: 3 }]);
      expect(asked).toEqual(['/api/trpc/lab/services.listCompact', '/api/trpc/lab/services.list']);
    }
  });

  it('sends each slice after the first only when the page asks for it', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ result: { data: compact(5) } }))));
    const posted: ServicesWorkerOut[] = [];
    const asks: (() => void)[] = [];
    const done = readServices({ base: '/x', slice: 2 }, (x) => posted.push(x), () => new Promise((r) => asks.push(r)));
    await vi.waitFor(() => expect(posted).toEqual([{ kind: 'slice', services: served(5).slice(0, 2) }]));
    await new Promise((r) => setTimeout(r, 20));
    expect(posted.length).toBe(1);
    asks.shift()!();
    await vi.waitFor(() => expect(posted.length).toBe(2));
    asks.shift()!();
    await done;
    expect(posted.slice(1)).toEqual([{ kind: 'slice', services: served(5).slice(2, 4) }, { kind: 'slice', services: served(5).slice(4) }, { kind: 'done', count: 5 }]);
  });

  it('passes on a tRPC error and the console\'s own refusal with their messages', async () => {
    const trpc = workerAnswering(() => [500, { error: { message: 'cannot read the IPVS table', data: { code: 'INTERNAL_SERVER_ERROR' } } }]);
    expect((await trpc({ base: '/x', slice: 2 })).posted).toEqual([{ kind: 'error', message: 'cannot read the IPVS table', code: 'INTERNAL_SERVER_ERROR' }]);
    const console401 = workerAnswering(() => [401, { error: 'Not signed in. Reload the page to sign in again.' }]);
    const refused = await console401({ base: '/x', slice: 2 });
    expect(refused.posted).toEqual([{ kind: 'error', message: 'Not signed in. Reload the page to sign in again.', code: 'UNAUTHORIZED' }]);
    expect(refused.asked).toEqual(['/x/services.listCompact']);
  });

  it('hands over nothing of a table that does not decode, and says so', async () => {
    const bad = compact(3);
    const d = bad.d.split(',');
    d[2] = '99'; // an unknown forwarding method
    bad.d = d.join(',');
    const run = workerAnswering(() => [200, { result: { data: bad } }]);
    const { posted } = await run({ base: '/x', slice: 2 });
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({ kind: 'error', code: null, message: expect.stringMatching(/does not read: .*service 0, real server 0: bad forwarding method \(99\)/) });
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
    expect(made[0]!.got).toEqual([{ base: '/api/trpc/lab%20one', slice: 100 }, NEXT, NEXT]);
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
