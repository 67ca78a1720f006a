/**
 * The agent over a real HTTP+WS server on 127.0.0.1:0, on the in-memory fake
 * kernel: the auth matrix on every procedure, the WebSocket Origin check,
 * field-level errors on the wire, /metrics and /healthz, and shutdown.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createTRPCClient, createWSClient, httpLink, TRPCClientError, wsLink } from '@trpc/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LiveTable, type WireTick } from '@/lib/agent/live-wire';
import { ACTOR_HEADER, signActor } from '@/lib/auth/actor';
import type { ServiceKey } from '@/lib/ipvs/model';
import { Auth, tokenFile } from './auth';
import type { AppRouter } from './router';
import { KEEP_ALIVE_MS, checkListen, startAgentServer, type AgentServer } from './server';
import { makeDeps, silentLog } from './testing';

const VIP: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 };
const RS1 = { family: 'inet' as const, address: '10.0.0.1', port: 80 };
const TOKENS = { viewer: 'viewer_' + 'v'.repeat(40), operator: 'operator_' + 'o'.repeat(40) };
const ORIGIN = 'http://127.0.0.1:3000';

let deps: Awaited<ReturnType<typeof makeDeps>>;
let srv: AgentServer;
let auth: Auth;

function client(token: string | null) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${srv.url}/trpc`, headers: () => (token ? { authorization: `Bearer ${token}` } : {}) })],
  });
}

async function failure(p: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e, 'expected the call to fail').toBeInstanceOf(TRPCClientError);
  return e as TRPCClientError<AppRouter>;
}

beforeEach(async () => {
  deps = await makeDeps({ tickMs: 50 });
  deps.hub.start();
  auth = Auth.fromTokens(TOKENS, silentLog, { maxFailures: 5 });
  srv = await startAgentServer({
    deps, auth, listen: { host: '127.0.0.1', port: 0 }, allowOrigins: [ORIGIN], authTimeoutMs: 500,
  });
  await deps.fake.addService({ key: VIP, scheduler: 'wlc', flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0, netmask: '255.255.255.255', pe: null });
  await deps.fake.addDestination(VIP, { ...RS1, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' } });
});

afterEach(async () => {
  await srv.close();
  deps.hub.close();
});

/** One call per procedure of the router, with valid input. */
function everyProcedure(c: ReturnType<typeof client>): Record<string, { write: boolean; call: () => Promise<unknown> }> {
  return {
    'info': { write: false, call: () => c.info.query() },
    'services.list': { write: false, call: () => c.services.list.query() },
    'services.get': { write: false, call: () => c.services.get.query({ key: VIP }) },
    'services.create': { write: true, call: () => c.services.create.mutate({ service: { key: { ...VIP, port: 81 } } }) },
    'services.update': { write: true, call: () => c.services.update.mutate({ key: VIP, patch: { scheduler: 'rr' } }) },
    'services.remove': { write: true, call: () => c.services.remove.mutate({ key: VIP }) },
    'destinations.create': { write: true, call: () => c.destinations.create.mutate({ service: VIP, destination: { ...RS1, address: '10.0.0.2' } }) },
    'destinations.update': { write: true, call: () => c.destinations.update.mutate({ service: VIP, destination: RS1, patch: { weight: 5 } }) },
    'destinations.remove': { write: true, call: () => c.destinations.remove.mutate({ service: VIP, destination: RS1 }) },
    'destinations.drain': { write: true, call: () => c.destinations.drain.mutate({ service: VIP, destination: RS1 }) },
    'stats.zero': { write: true, call: () => c.stats.zero.mutate({}) },
    'timeouts.get': { write: false, call: () => c.timeouts.get.query() },
    'timeouts.set': { write: true, call: () => c.timeouts.set.mutate({ tcp: 100 }) },
    'snapshot.export': { write: false, call: () => c.snapshot.export.query({ format: 'ipvsadm' }) },
    'snapshot.plan': { write: false, call: () => c.snapshot.plan.query({ format: 'ipvsadm', text: '' }) },
    'snapshot.restore': { write: true, call: () => c.snapshot.restore.mutate({ format: 'ipvsadm', text: '-C\n' }) },
    'connections.list': { write: false, call: () => c.connections.list.query({}) },
    'connections.summary': { write: false, call: () => c.connections.summary.query() },
    'sync.list': { write: false, call: () => c.sync.list.query() },
    'journal.list': { write: false, call: () => c.journal.list.query() },
    'journal.undo': { write: true, call: () => c.journal.undo.mutate() },
    'auth.whoami': { write: false, call: () => c.auth.whoami.query() },
  };
}

describe('auth matrix over HTTP', () => {
  it('refuses every procedure without a token, and with a wrong token; the table is unchanged', async () => {
    const before = JSON.stringify(await deps.fake.dump());
    for (const [name, p] of Object.entries(everyProcedure(client(null)))) {
      expect((await failure(p.call())).data?.code, name).toBe('UNAUTHORIZED');
    }
    // a wrong token: fewer attempts than the rate limit per test address would allow, so use a fresh Auth budget
    const wrong = everyProcedure(client('operator_' + 'x'.repeat(40)));
    const codes = new Set<string>();
    for (const p of Object.values(wrong)) codes.add(String((await failure(p.call())).data?.code));
    // after 5 wrong tokens the address is blocked: the rest are TOO_MANY_REQUESTS
    expect([...codes].sort()).toEqual(['TOO_MANY_REQUESTS', 'UNAUTHORIZED']);
    expect(JSON.stringify(await deps.fake.dump())).toBe(before);
    expect((await deps.fake.getTimeouts()).tcp).toBe(900);
  });

  it('blocks wrong tokens from an address after repeated failures, but never the right token', async () => {
    const wrong = 'viewer_wrong' + 'z'.repeat(30);
    for (let i = 0; i < 12; i++) await failure(client(wrong).info.query());
    const e = await failure(client(wrong).info.query());
    expect(e.data?.code).toBe('TOO_MANY_REQUESTS');
    expect(e.data?.httpStatus).toBe(429);
    // a dozen wrong ones later, the right tokens still work, over HTTP and the WebSocket
    expect(await client(TOKENS.operator).auth.whoami.query()).toEqual({ role: 'operator', tokenName: 'operator' });
    expect((await client(TOKENS.viewer).auth.whoami.query()).role).toBe('viewer');
    const ws = new WebSocket(srv.wsUrl! + '?connectionParams=1', { headers: { origin: ORIGIN } });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => {
        ws.send(JSON.stringify({ method: 'connectionParams', data: { token: TOKENS.viewer } }));
        ws.send(JSON.stringify({ id: 1, method: 'query', params: { path: 'auth.whoami', input: undefined } }));
      });
      ws.on('message', (m) => { if (String(m).startsWith('{"id":1')) resolve(String(m)); });
      ws.on('close', (code) => reject(new Error(`closed: ${code}`)));
      ws.on('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    ws.close();
    expect(JSON.parse(reply)).toMatchObject({ id: 1, result: { data: { role: 'viewer' } } });
  });

  it('/metrics answers a valid token under a flood of wrong ones from the same address', async () => {
    const flood = Array.from({ length: 40 }, () => fetch(`${srv.url}/metrics`, { headers: { authorization: 'Bearer wrong_' + 'w'.repeat(40) } }));
    const statuses = await Promise.all(flood.map((p) => p.then((r) => r.status)));
    expect(statuses.every((s) => s === 401)).toBe(true);
    const r = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('director_');
  });

  it('refuses every write to a viewer token with FORBIDDEN, allows its reads, and leaves the table unchanged', async () => {
    const before = JSON.stringify(await deps.fake.dump());
    for (const [name, p] of Object.entries(everyProcedure(client(TOKENS.viewer)))) {
      const r = await p.call().then(() => null, (err: unknown) => err as TRPCClientError<AppRouter>);
      if (p.write) {
        expect(r?.data?.code, name).toBe('FORBIDDEN');
      } else {
        // reads pass auth; some are not available on this agent (no conn reader, no snapshot module)
        expect(['UNAUTHORIZED', 'FORBIDDEN']).not.toContain(r?.data?.code);
      }
    }
    expect(JSON.stringify(await deps.fake.dump())).toBe(before);
    expect((await deps.fake.getTimeouts()).tcp).toBe(900);
  });

  it('lets the operator write', async () => {
    const c = client(TOKENS.operator);
    await c.destinations.update.mutate({ service: VIP, destination: RS1, patch: { weight: 9 } });
    expect((await deps.fake.listDestinations(VIP))[0]!.weight).toBe(9);
    expect(await c.auth.whoami.query()).toEqual({ role: 'operator', tokenName: 'operator' });
  });
});

describe('errors on the wire', () => {
  it('returns field-level issues for invalid input, and nothing reaches the kernel', async () => {
    const calls = deps.fake.calls.get('addDestination') ?? 0;
    const e = await failure(client(TOKENS.operator).destinations.create.mutate({
      service: VIP,
      destination: { family: 'inet', address: '10.0.0.300', port: 80, weight: -1, upperThreshold: 5, lowerThreshold: 9 },
    }));
    expect(e.data?.code).toBe('BAD_REQUEST');
    expect(e.data?.httpStatus).toBe(400);
    const fields = Object.keys(e.data?.zodError?.fieldErrors ?? {});
    expect(fields).toEqual(expect.arrayContaining(['destination.address', 'destination.weight']));
    expect(deps.fake.calls.get('addDestination') ?? 0).toBe(calls);
  });

  it('maps kernel errors to tRPC codes and keeps the IPVS code and errno', async () => {
    const e = await failure(client(TOKENS.operator).destinations.create.mutate({ service: VIP, destination: RS1 }));
    expect(e.data?.code).toBe('CONFLICT');
    expect(e.data?.httpStatus).toBe(409);
    expect(e.data?.ipvs).toEqual({ code: 'destination_exists', errno: 'EEXIST' });
    expect(e.message).toContain('10.0.0.1');
  });
});

describe('WebSocket', () => {
  function rawUpgrade(headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(srv.wsUrl!, { headers });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => { ws.close(); resolve(101); });
      ws.on('error', (err) => { if (!String(err.message).includes('Unexpected server response')) reject(err); });
    });
  }

  it('refuses an upgrade from a disallowed Origin with 403', async () => {
    expect(await rawUpgrade({ origin: 'http://evil.example' })).toBe(403);
    expect(await rawUpgrade({ origin: 'null' })).toBe(403);
    expect(await rawUpgrade({ origin: ORIGIN })).toBe(101);
  });

  it('refuses an upgrade on another path with 404', async () => {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(srv.url.replace('http', 'ws') + '/other');
      ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(404);
  });

  function wsClient(token: string | null, origin = ORIGIN) {
    const closes: number[] = [];
    const wsc = createWSClient({
      url: srv.wsUrl!,
      WebSocket: class extends WebSocket {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols, { headers: { origin } });
        }
      } as unknown as typeof globalThis.WebSocket,
      ...(token ? { connectionParams: { token } } : {}),
      onClose: (c) => { closes.push(c?.code ?? 0); },
      retryDelayMs: () => 60_000,
    });
    const c = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsc })] });
    return { c, wsc, closes };
  }

  it('streams stats ticks to a client with a token in connection params', async () => {
    const table = new LiveTable();
    const withTraffic = () => (table.services.get('tcp:192.0.2.10:80')?.dests.get('10.0.0.1:80')?.v.inBps ?? 0) > 0;
    const { c, wsc } = wsClient(TOKENS.viewer);
    const ticks: WireTick[] = [];
    let sent = false;
    await new Promise<void>((resolve, reject) => {
      const sub = c.stats.onTick.subscribe({}, {
        onData: (ev) => {
          ticks.push(ev.data);
          if (!table.apply(ev.data)) reject(new Error(`tick ${ev.data.seq} did not follow the one before`));
          // traffic once the client holds the real server (the first tick can be a sample from before it was added)
          if (!sent && table.services.get('tcp:192.0.2.10:80')?.dests.has('10.0.0.1:80')) {
            sent = true;
            deps.fake.traffic(VIP, RS1, { inPkts: 50, inBytes: 5000 });
          }
          // a sample already in flight when the traffic lands may carry other changes first
          if (withTraffic()) { sub.unsubscribe(); resolve(); }
        },
        onError: reject,
      });
    });
    wsc.close();
    expect(ticks[0]!.full).toBe(true);
    expect(ticks.at(-1)!.full).toBe(false);
    expect(table.services.get('tcp:192.0.2.10:80')!.dests.get('10.0.0.1:80')!.v.inPps).toBeGreaterThan(0);
  });

  it('refuses a WebSocket client with a wrong token: no data, socket closed by the agent', async () => {
    const { c, wsc, closes } = wsClient('viewer_' + 'q'.repeat(40));
    let data = 0;
    const sub = c.stats.onTick.subscribe({}, { onData: () => { data++; } });
    const t0 = Date.now();
    while (closes.length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    sub.unsubscribe();
    wsc.close();
    expect(closes.length, 'the agent closed the socket').toBeGreaterThan(0);
    expect(data).toBe(0);
  });

  it('closes a WebSocket that never authenticates', async () => {
    const ws = new WebSocket(srv.wsUrl! + '?connectionParams=1', { headers: { origin: ORIGIN } });
    const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    expect(code).toBe(4401);
  });

  it('tells WebSocket clients to reconnect on shutdown', async () => {
    const ws = new WebSocket(srv.wsUrl!, { headers: { origin: ORIGIN, authorization: `Bearer ${TOKENS.viewer}` } });
    await new Promise((r) => ws.on('open', r));
    const messages: string[] = [];
    ws.on('message', (m) => messages.push(String(m)));
    const closed = new Promise<number>((r) => ws.on('close', (c) => r(c)));
    await srv.close();
    expect(await closed).toBe(1001);
    expect(messages.map((m) => JSON.parse(m) as { method?: string })).toContainEqual({ id: null, method: 'reconnect' });
  });
});

describe('acting user (x-director-actor)', () => {
  const signed = (token: string, user: string, role = 'operator', now = Date.now()) => signActor(token, { user, role }, now);
  function withHeaders(token: string, extra: Record<string, string>) {
    return createTRPCClient<AppRouter>({
      links: [httpLink({ url: `${srv.url}/trpc`, headers: () => ({ authorization: `Bearer ${token}`, ...extra }) })],
    });
  }

  it('records the signed user in the journal next to the role', async () => {
    const c = withHeaders(TOKENS.operator, { [ACTOR_HEADER]: await signed(TOKENS.operator, 'alice') });
    await c.destinations.update.mutate({ service: VIP, destination: RS1, patch: { weight: 7 } });
    const [entry] = deps.journal.list({ limit: 1 });
    expect(entry).toMatchObject({ role: 'operator', tokenName: 'operator', actor: 'alice', op: 'destinations.update' });
    // no header: no actor
    await client(TOKENS.operator).destinations.update.mutate({ service: VIP, destination: RS1, patch: { weight: 8 } });
    expect(deps.journal.list({ limit: 1 })[0]).not.toHaveProperty('actor');
  });

  it('refuses a header that is forged, signed with another token, for another role, or stale; nothing changes', async () => {
    const before = JSON.stringify(await deps.fake.dump());
    const journaled = deps.journal.list({ limit: 100 }).length;
    const good = await signed(TOKENS.operator, 'alice');
    const forgedPayload = Buffer.from(JSON.stringify({ user: 'root', role: 'operator', iat: Math.floor(Date.now() / 1000) })).toString('base64url');
    const cases: [string, string, RegExp][] = [
      ['forged', `${forgedPayload}.${good.split('.')[1]}`, /signature does not match/],
      ['viewer-signed', await signed(TOKENS.viewer, 'mallory'), /signature does not match/],
      ['wrong role', await signed(TOKENS.operator, 'alice', 'viewer'), /names a viewer, but the request carries the operator token/],
      ['stale', await signed(TOKENS.operator, 'alice', 'operator', Date.now() - 6 * 60_000), /older than 300 s/],
      ['garbage', 'not-a-header', /not <payload>\.<signature>/],
    ];
    for (const [name, header, message] of cases) {
      const e = await failure(withHeaders(TOKENS.operator, { [ACTOR_HEADER]: header }).destinations.update.mutate({ service: VIP, destination: RS1, patch: { weight: 2 } }));
      expect(e.data?.code, name).toBe('UNAUTHORIZED');
      expect(e.message, name).toMatch(message);
    }
    expect(JSON.stringify(await deps.fake.dump())).toBe(before);
    expect(deps.journal.list({ limit: 100 })).toHaveLength(journaled);
  });

  it('takes the header on the WebSocket upgrade, as the console sends it', async () => {
    const header = await signed(TOKENS.operator, 'bob');
    const ws = new WebSocket(srv.wsUrl!, { headers: { origin: ORIGIN, authorization: `Bearer ${TOKENS.operator}`, [ACTOR_HEADER]: header } });
    const reply = await new Promise<unknown>((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ id: 1, method: 'mutation', params: { path: 'destinations.update', input: { service: VIP, destination: RS1, patch: { weight: 3 } } } })));
      ws.on('message', (m) => resolve(JSON.parse(String(m))));
      ws.on('error', reject);
    });
    ws.close();
    expect(reply).toMatchObject({ id: 1, result: { type: 'data' } });
    expect(deps.journal.list({ limit: 1 })[0]).toMatchObject({ actor: 'bob', role: 'operator', op: 'destinations.update' });
  });
});

describe('lab procedures', () => {
  it('are not served by a production agent, whatever DIRECTOR_LAB says', async () => {
    const before = process.env.DIRECTOR_LAB;
    process.env.DIRECTOR_LAB = '1';
    try {
      for (const p of ['lab.status', 'lab.ipvsadm']) {
        const r = await fetch(`${srv.url}/trpc/${p}`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.operator}`, 'content-type': 'application/json' }, body: JSON.stringify({ args: ['-C'] }) });
        expect(r.status, p).toBe(404);
      }
    } finally {
      if (before === undefined) delete process.env.DIRECTOR_LAB;
      else process.env.DIRECTOR_LAB = before;
    }
  });
});

describe('operations endpoints', () => {
  it('/healthz answers without a token', async () => {
    await deps.hub.sampleNow();
    const r = await fetch(`${srv.url}/healthz`);
    expect(r.status).toBe(200);
  });

  it('keeps idle connections longer than clients do (undici gives up after 4 s), so a reused socket is never one the agent is closing', async () => {
    const r = await fetch(`${srv.url}/healthz`);
    await r.arrayBuffer();
    expect(r.headers.get('keep-alive')).toBe(`timeout=${KEEP_ALIVE_MS / 1000}`);
    expect(KEEP_ALIVE_MS).toBeGreaterThan(10_000);
  });

  it('/metrics needs a token and labels series by service and destination', async () => {
    expect((await fetch(`${srv.url}/metrics`)).status).toBe(401);
    deps.fake.traffic(VIP, RS1, { conns: 3, inBytes: 1234 });
    deps.fake.setConns(VIP, RS1, { active: 2 });
    await deps.hub.sampleNow();
    const r = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toContain('director_ipvs_destination_bytes_total{service="tcp:192.0.2.10:80",destination="10.0.0.1:80",direction="in"} 1234');
    expect(text).toContain('director_ipvs_destination_active_connections{service="tcp:192.0.2.10:80",destination="10.0.0.1:80"} 2');
    expect(text).toContain('director_ipvs_service_connections_total{service="tcp:192.0.2.10:80"} 3');
  });
});

describe('listening', () => {
  it('refuses a non-loopback address without TLS or --insecure-listen', () => {
    expect(() => checkListen({ host: '0.0.0.0', port: 1 }, false, false)).toThrow(/without TLS/);
    expect(() => checkListen({ host: '192.0.2.1', port: 1 }, false, false)).toThrow(/without TLS/);
    expect(() => checkListen({ host: '0.0.0.0', port: 1 }, true, false)).not.toThrow();
    expect(() => checkListen({ host: '0.0.0.0', port: 1 }, false, true)).not.toThrow();
    expect(() => checkListen({ host: '127.0.0.2', port: 1 }, false, false)).not.toThrow();
    expect(() => checkListen({ host: '::1', port: 1 }, false, false)).not.toThrow();
  });

  it('serves on a unix socket', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'director-sock-'));
    const sock = path.join(dir, 'agent.sock');
    const s2 = await startAgentServer({ deps, auth, listen: { socket: sock }, allowOrigins: [] });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        http.get({ socketPath: sock, path: '/trpc/auth.whoami', headers: { authorization: `Bearer ${TOKENS.viewer}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
      expect(status).toBe(200);
      expect(((await stat(sock)).mode & 0o777).toString(8)).toBe('660');
    } finally {
      await s2.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('token files', () => {
  it('refuses a token file holding a token under 32 characters, naming the file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'director-state-'));
    try {
      await mkdir(path.join(dir, 'tokens'), { recursive: true });
      await writeFile(tokenFile(dir, 'operator'), 'ab\n', { mode: 0o600 });
      await expect(Auth.open({ stateDir: dir, log: silentLog, announce: () => {} }))
        .rejects.toThrow(`${tokenFile(dir, 'operator')}: the token is 2 characters; agent tokens are at least 32`);
      // the short token is left as it was: the operator decides (remove it to get a new one)
      expect(await readFile(tokenFile(dir, 'operator'), 'utf8')).toBe('ab\n');
      await writeFile(tokenFile(dir, 'operator'), `${'x'.repeat(20)} ${'y'.repeat(20)}\n`);
      await expect(Auth.open({ stateDir: dir, log: silentLog, announce: () => {} })).rejects.toThrow(/spaces, control or non-ASCII/);
      await writeFile(tokenFile(dir, 'operator'), `${'z'.repeat(32)}\n`);
      const a = await Auth.open({ stateDir: dir, log: silentLog, announce: () => {} });
      expect(a.verify('z'.repeat(32), 'x')?.role).toBe('operator');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });


  it('generates 0600 token files once and shows them once', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'director-state-'));
    try {
      const shown: string[] = [];
      const a1 = await Auth.open({ stateDir: dir, log: silentLog, announce: (t) => shown.push(t) });
      const op = (await readFile(tokenFile(dir, 'operator'), 'utf8')).trim();
      expect(((await stat(tokenFile(dir, 'operator'))).mode & 0o777).toString(8)).toBe('600');
      expect(((await stat(tokenFile(dir, 'viewer'))).mode & 0o777).toString(8)).toBe('600');
      expect(shown).toHaveLength(1);
      // the paths are shown, never the tokens
      expect(shown[0]).toContain(tokenFile(dir, 'operator'));
      expect(shown[0]).toContain(tokenFile(dir, 'viewer'));
      expect(shown[0]).not.toContain(op);
      expect(shown[0]).not.toContain((await readFile(tokenFile(dir, 'viewer'), 'utf8')).trim());
      expect(a1.verify(op, 'x')).toEqual({ role: 'operator', tokenName: 'operator' });
      const a2 = await Auth.open({ stateDir: dir, log: silentLog, announce: (t) => shown.push(t) });
      expect(shown).toHaveLength(1);
      expect(a2.verify(op, 'x')?.role).toBe('operator');
      expect(a2.verify(op + 'x', 'x')).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
