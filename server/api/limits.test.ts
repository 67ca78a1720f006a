/**
 * Resource limits against a real agent server on 127.0.0.1:0 (in-memory fake
 * kernel): oversized bodies, batches, calls in flight per WebSocket, clients
 * that do not read, and connection caps. A viewer token must not be able to
 * stall or kill the agent (issue 23 #3).
 */
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServiceKey } from '@/lib/ipvs/model';
import { Auth } from './auth';
import { DEFAULT_LIMITS, resolveLimits } from './limits';
import { startAgentServer, type AgentServer } from './server';
import { lastParseThread } from '../snapshot/parse-off-thread';
import { MAX_PLAN_OPS } from '../table/snapshot-ops';
import { makeDeps, silentLog } from './testing';

const TOKENS = { viewer: 'viewer_' + 'v'.repeat(40), operator: 'operator_' + 'o'.repeat(40) };
const MiB = 1024 * 1024;

let deps: Awaited<ReturnType<typeof makeDeps>>;
let srv: AgentServer;

async function start(limits?: Parameters<typeof resolveLimits>[0]) {
  srv = await startAgentServer({
    deps, auth: Auth.fromTokens(TOKENS, silentLog), listen: { host: '127.0.0.1', port: 0 }, allowOrigins: [], ...(limits ? { limits } : {}),
  });
}

async function addServices(n: number, destsEach: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const key: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.${(i >> 8) & 255}.${i & 255}.1`, port: 80 };
    await deps.fake.addService({ key, scheduler: 'wlc', flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0, netmask: '255.255.255.255', pe: null });
    for (let d = 0; d < destsEach; d++) {
      await deps.fake.addDestination(key, { family: 'inet', address: `192.168.${i & 255}.${d + 1}`, port: 8080, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' } });
    }
  }
}

beforeEach(async () => {
  deps = await makeDeps({ tickMs: 50 });
  deps.hub.start();
  await deps.hub.sampleNow();
});

afterEach(async () => {
  await srv?.close();
  deps.hub.close();
});

/**
 * Probe /healthz every 50 ms while `work` runs; the worst delay in ms between when a probe
 * was due and when its answer came (a stalled loop delays the probe's timer as well as its answer).
 */
async function healthzWhile<T>(work: Promise<T>): Promise<{ result: T; worstMs: number }> {
  let done = false;
  let worstMs = 0;
  const poller = (async () => {
    let due = performance.now();
    while (!done) {
      const r = await fetch(`${srv.url}/healthz`);
      await r.text();
      expect(r.status).toBe(200);
      const now = performance.now();
      worstMs = Math.max(worstMs, now - due);
      due = now + 50;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    const result = await work;
    return { result, worstMs };
  } finally {
    done = true;
    await poller;
  }
}

/** POST `total` bytes of JSON-ish filler; resolves with the status and when it came, as soon as the agent answers. */
function postBig(token: string, total: number, opts: { chunked: boolean }): Promise<{ status: number; ms: number; body: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(`${srv.url}/trpc/snapshot.plan?batch=0`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`, 'content-type': 'application/json',
        ...(opts.chunked ? {} : { 'content-length': String(total) }),
      },
    }, (res) => {
      const ms = performance.now() - t0;
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, ms, body }));
    });
    // the agent may close the socket while we still write: that is the point
    req.on('error', (e) => reject(e));
    const head = '{"format":"ipvsadm","text":"';
    const chunk = Buffer.alloc(MiB, 'a');
    req.write(head);
    let sent = head.length + 2;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end('"}');
    };
    pump();
  });
}

describe('HTTP bodies', () => {
  it('refuses a 64 MiB body from a viewer (Content-Length) with 413 within 1 s; /healthz stays fast, memory does not grow by the body', async () => {
    await start();
    const rss0 = process.memoryUsage().rss;
    const { result, worstMs } = await healthzWhile(postBig(TOKENS.viewer, 64 * MiB, { chunked: false }).catch((e: Error) => ({ status: -1, ms: -1, body: e.message })));
    expect(result.status, result.body).toBe(413);
    expect(result.ms).toBeLessThan(1000);
    expect(JSON.parse(result.body)).toMatchObject({ error: { data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 } } });
    expect(worstMs).toBeLessThan(200);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(48 * MiB);
  });

  it('refuses a 64 MiB chunked body (no length) as soon as it passes the limit', async () => {
    await start();
    const rss0 = process.memoryUsage().rss;
    const { result, worstMs } = await healthzWhile(postBig(TOKENS.viewer, 64 * MiB, { chunked: true }).catch((e: Error) => ({ status: -1, ms: -1, body: e.message })));
    expect(result.status, result.body).toBe(413);
    expect(result.ms).toBeLessThan(1000);
    expect(worstMs).toBeLessThan(200);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(48 * MiB);
  });

  it('gives an operator a larger body than a viewer, and a request without a token the least', async () => {
    await start();
    const size = 2 * MiB; // over the viewer's 1 MiB, under the operator's 8 MiB
    expect((await postBig(TOKENS.viewer, size, { chunked: false })).status).toBe(413);
    const op = await postBig(TOKENS.operator, size, { chunked: false });
    // accepted for reading: the filler is then refused as a snapshot, field by field
    expect(op.status, op.body).toBe(400);
    expect(op.body).toContain('text');
    expect((await postBig('nobody', 256 * 1024, { chunked: false })).status).toBe(413);
    expect(DEFAULT_LIMITS.roles.viewer.bodyBytes).toBeLessThan(DEFAULT_LIMITS.roles.operator.bodyBytes);
  });
});

describe('body budget', () => {
  it('refuses a body with 429 while others being read fill the budget, and accepts it once they are done', async () => {
    await start({ bodyBudgetBytes: 3 * MiB });
    // an operator body of 2 MiB, half sent and held open
    const held = http.request(`${srv.url}/trpc/snapshot.plan`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKENS.operator}`, 'content-type': 'application/json', 'content-length': String(2 * MiB) },
    });
    const heldDone = new Promise<number>((resolve) => held.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); }));
    held.on('error', () => undefined);
    held.write(Buffer.alloc(MiB, 'a'));
    await new Promise((r) => setTimeout(r, 100));
    const second = await postBig(TOKENS.operator, 2 * MiB, { chunked: false });
    expect(second.status, second.body).toBe(429);
    held.end(Buffer.alloc(MiB, 'a'));
    expect(await heldDone).toBe(400); // not JSON: refused as input, after being read
    expect((await postBig(TOKENS.operator, 2 * MiB, { chunked: false })).status).toBe(400);
  });
});

describe('batches', () => {
  it('refuses an HTTP batch of 100 calls, and runs none of them', async () => {
    await start();
    const paths = Array.from({ length: 100 }, () => 'services.list').join(',');
    const listed = deps.fake.calls.get('dump') ?? 0;
    const r = await fetch(`${srv.url}/trpc/${paths}?batch=1&input=${encodeURIComponent('{}')}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    const text = await r.text();
    expect(r.status, text).toBe(400);
    expect(text).toContain('Batch call exceeds maximum size');
    expect(deps.fake.calls.get('dump') ?? 0).toBe(listed);
    // 16 is allowed
    const ok = await fetch(`${srv.url}/trpc/${paths.split(',').slice(0, 16).join(',')}?batch=1&input=${encodeURIComponent('{}')}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect(ok.status).toBe(200);
  });
});

type Ws = WebSocket & { first: Promise<unknown> };
/** An open socket; `first` is its first message (the agent may send it with the upgrade's answer). */
function openWs(token: string): Promise<Ws> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(srv.wsUrl!, { headers: { authorization: `Bearer ${token}` } }) as Ws;
    ws.first = new Promise((r) => ws.once('message', (m) => r(JSON.parse(String(m)))));
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

describe('WebSocket', () => {
  it('answers at most the in-flight limit of 1,500 exports sent at once and refuses the rest; the agent stays up, memory bounded', async () => {
    await start();
    await addServices(200, 4);
    const ws = await openWs(TOKENS.viewer);
    const replies: { id: number; code?: string; ok: boolean }[] = [];
    const all = new Promise<void>((resolve) => {
      ws.on('message', (m) => {
        const r = JSON.parse(String(m)) as { id: number; error?: { data?: { code?: string } }; result?: unknown };
        replies.push({ id: r.id, ok: r.result !== undefined, ...(r.error ? { code: r.error.data?.code } : {}) });
        if (replies.length === 1500) resolve();
      });
    });
    const rss0 = process.memoryUsage().rss;
    for (let id = 1; id <= 1500; id++) ws.send(JSON.stringify({ id, method: 'query', params: { path: 'snapshot.export', input: { format: 'json' } } }));
    await all;
    const ok = replies.filter((r) => r.ok).length;
    const refused = replies.filter((r) => r.code === 'TOO_MANY_REQUESTS').length;
    expect(ok + refused).toBe(1500);
    expect(refused).toBeGreaterThan(1400);
    expect(ok).toBeGreaterThanOrEqual(DEFAULT_LIMITS.roles.viewer.wsInFlight);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * MiB);
    // the same socket works again once its calls are answered, and the agent answers others
    const again = new Promise<unknown>((resolve) => ws.once('message', (m) => resolve(JSON.parse(String(m)))));
    ws.send(JSON.stringify({ id: 9999, method: 'query', params: { path: 'auth.whoami' } }));
    expect(await again).toMatchObject({ id: 9999, result: { data: { role: 'viewer' } } });
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    ws.close();
  });

  it('holds a WebSocket message to the same size as an HTTP body of the role', async () => {
    await start();
    const ws = await openWs(TOKENS.viewer);
    const text = 'a'.repeat(2 * MiB); // over the viewer's 1 MiB, under the socket's 8 MiB frame limit
    ws.send(JSON.stringify({ id: 7, method: 'query', params: { path: 'snapshot.plan', input: { format: 'ipvsadm', text } } }));
    expect(await ws.first).toMatchObject({ id: 7, error: { data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 } } });
    // the socket is still usable
    const next = new Promise<unknown>((resolve) => ws.once('message', (m) => resolve(JSON.parse(String(m)))));
    ws.send(JSON.stringify({ id: 8, method: 'query', params: { path: 'auth.whoami' } }));
    expect(await next).toMatchObject({ id: 8, result: { data: { role: 'viewer' } } });
    ws.close();
  });

  it('refuses calls past the limit in one message (a batch array) too', async () => {
    await start();
    const ws = await openWs(TOKENS.operator);
    const replies: { id: number; code?: string }[] = [];
    const all = new Promise<void>((resolve) => {
      ws.on('message', (m) => {
        const r = JSON.parse(String(m)) as { id: number; error?: { data?: { code?: string } } };
        replies.push({ id: r.id, ...(r.error ? { code: r.error.data?.code } : {}) });
        if (replies.length === 100) resolve();
      });
    });
    ws.send(JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ id: i + 1, method: 'query', params: { path: 'auth.whoami' } }))));
    await all;
    expect(replies.filter((r) => r.code === 'TOO_MANY_REQUESTS').length).toBeGreaterThanOrEqual(100 - DEFAULT_LIMITS.batchCalls);
    ws.close();
  });

  it('closes a socket whose client stops reading once its queued replies pass the bound', async () => {
    await start({ roles: { viewer: { wsBufferedBytes: 256 * 1024 } } });
    await addServices(300, 4);
    const ws = await openWs(TOKENS.viewer);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    // stop reading: the kernel's buffers fill, then the agent's queue
    (ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    let id = 0;
    const sender = setInterval(() => {
      if (ws.readyState !== ws.OPEN) return;
      for (let i = 0; i < 4; i++) ws.send(JSON.stringify({ id: ++id, method: 'query', params: { path: 'snapshot.export', input: { format: 'json' } } }));
    }, 5);
    const rss0 = process.memoryUsage().rss;
    const t0 = Date.now();
    // the agent's side is gone (it terminated the socket) when its client count drops to 0
    while (Date.now() - t0 < 15_000) {
      const m = await (await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.operator}` } })).text();
      if (/director_agent_websocket_clients 0\b/.test(m)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    clearInterval(sender);
    const m = await (await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.operator}` } })).text();
    expect(m).toMatch(/director_agent_websocket_clients 0\b/);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(150 * MiB);
    (ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
    expect(await closed).not.toBe(1000);
  });

  it('caps WebSockets per token', async () => {
    await start({ roles: { viewer: { wsConnections: 2 } } });
    const a = await openWs(TOKENS.viewer);
    const b = await openWs(TOKENS.viewer);
    const c = await openWs(TOKENS.viewer);
    const reply = c.first;
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    expect(await reply).toMatchObject({ error: { data: { code: 'TOO_MANY_REQUESTS' } } });
    await closed;
    // the operator's sockets are counted apart
    const d = await openWs(TOKENS.operator);
    expect(d.readyState).toBe(d.OPEN);
    // a closed socket gives its place back
    a.close();
    await new Promise((r) => setTimeout(r, 100));
    const e = await openWs(TOKENS.viewer);
    const whoami = e.first;
    e.send(JSON.stringify({ id: 1, method: 'query', params: { path: 'auth.whoami' } }));
    expect(await whoami).toMatchObject({ id: 1, result: { data: { role: 'viewer' } } });
    for (const s of [b, d, e]) s.close();
  });
});

describe('connections', () => {
  it('closes connections past the overall cap at once', async () => {
    await start({ connections: 3 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    const held = await Promise.all([0, 1, 2].map(() => openWs(TOKENS.viewer)));
    const status = await new Promise<string>((resolve) => {
      http.get(`${srv.url}/healthz`, { agent }, (res) => { res.resume(); resolve(String(res.statusCode)); }).on('error', (e) => resolve(e.message));
    });
    expect(status).not.toBe('200');
    held[0]!.close();
    await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    for (const s of held) s.close();
    agent.destroy();
  });
});

describe('large snapshots', () => {
  it('plans a 300 KiB snapshot with its parse on a worker thread, with a bad line reported by number', async () => {
    await start();
    const lines: string[] = [];
    for (let i = 0; lines.join('').length < 300 * 1024; i++) lines.push(`-A -t 10.${(i >> 8) & 255}.${i & 255}.1:80 -s rr\n`);
    const post = (text: string) => fetch(`${srv.url}/trpc/snapshot.plan`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKENS.viewer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ format: 'ipvsadm', text, prune: false }),
    }).then(async (r) => ({ status: r.status, body: await r.json() as { result?: { data: { ops: unknown[] } }; error?: { message: string; data: { zodError: { fieldErrors: Record<string, string[]> } } } } }));
    const ok = await post(lines.join(''));
    expect(ok.status).toBe(200);
    expect(ok.body.result!.data.ops).toHaveLength(lines.length);
    expect(lastParseThread).toBe('worker');
    const bad = [...lines];
    bad[5000] = '-A -t 10.0.0.1:99999 -s rr\n';
    const refused = await post(bad.join(''));
    expect(refused.status).toBe(400);
    expect(refused.body.error!.data.zodError.fieldErrors.text!.join(' ')).toMatch(/^line 5001/);
    // two worker threads that each load the parser through tsx: seconds on a busy 2-core machine
  }, 60_000);
});

describe('plan size', () => {
  it(`refuses a plan of more than ${MAX_PLAN_OPS} operations, saying how many and what to do`, async () => {
    await start();
    const lines: string[] = [];
    for (let i = 0; i <= MAX_PLAN_OPS; i++) lines.push(`-A -t 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80 -s rr\n`);
    const r = await fetch(`${srv.url}/trpc/snapshot.plan`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKENS.operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ format: 'ipvsadm', text: lines.join(''), prune: false }),
    });
    const body = await r.json() as { error: { data: { zodError: { fieldErrors: Record<string, string[]> } } } };
    expect(r.status).toBe(400);
    expect(body.error.data.zodError.fieldErrors.text).toEqual([
      `the plan has ${MAX_PLAN_OPS + 1} operations; the agent shows at most ${MAX_PLAN_OPS} at once (restore in parts, or with 'director restore' on the director)`,
    ]);
  }, 60_000);
});

