/**
 * The auth matrix against a real agent server on 127.0.0.1 inside the lab
 * kernel: every procedure without a token and with a wrong token, every write
 * procedure with the viewer token (over HTTP and over the WebSocket), every
 * subscription without a valid token, and WebSocket upgrades from a
 * disallowed Origin are refused; the IPVS table, its timeouts and the change
 * journal are the same before and after. The write inputs are real changes
 * (clear the table, remove a service, undo the last write...), and an
 * operator sends a few of them first, so a refusal that let them through
 * would show.
 */
import pino from 'pino';
import { createTRPCClient, createWSClient, httpLink, wsLink, TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { ipvsadm, ipvsadmRestore } from '../ipvs/kernel-test-helpers';
import { openIpvs } from '../ipvs/open';
import { Auth } from './auth';
import { procIpvsFile } from '../live/sampler';
import { TableHub } from '../live/hub';
import { Journal } from '../table/journal';
import { Mutex } from '../table/mutex';
import { labAppRouter, type LabAppRouter as AppRouter } from '../lab/app-router';
import { appRouter } from './router';
import { startAgentServer, type AgentServer } from './server';

const log = pino({ level: 'silent' });
const TOKENS = { viewer: 'viewer_' + 'm'.repeat(40), operator: 'operator_' + 'M'.repeat(40) };
const WRONG = 'operator_' + 'M'.repeat(39) + 'N';
const ORIGIN = 'http://console.test:3000';

const VIP = '192.168.171.10';
const svcKey = (port: number) => ({ kind: 'addr', family: 'inet', protocol: 'tcp', address: VIP, port });
const destKey = { family: 'inet', address: '192.168.171.21', port: 80 };
const TABLE = `-A -t ${VIP}:80 -s wlc
-a -t ${VIP}:80 -r 192.168.171.21:80 -g -w 3
-a -t ${VIP}:80 -r 192.168.171.22:80 -g -w 1 -x 100 -y 10
-A -u ${VIP}:53 -s rr -p 300
-a -u ${VIP}:53 -r 192.168.171.23:53 -m -w 1
`;

/** Inputs that would change the table (or the agent's state) if the call were let through. */
const WRITES: Record<string, unknown> = {
  'services.create': { service: { key: svcKey(443), scheduler: 'rr' }, destinations: [{ ...destKey, port: 443, forward: 'dr', weight: 1 }] },
  'services.update': { key: svcKey(80), patch: { scheduler: 'sh' } },
  'services.remove': { key: svcKey(80) },
  'destinations.create': { service: svcKey(80), destination: { family: 'inet', address: '192.168.171.29', port: 80, forward: 'dr', weight: 1 } },
  'destinations.update': { service: svcKey(80), destination: destKey, patch: { weight: 9 } },
  'destinations.remove': { service: svcKey(80), destination: destKey },
  'destinations.drain': { service: svcKey(80), destination: destKey },
  'stats.zero': {},
  'timeouts.set': { tcp: 1234, tcpFin: 56, udp: 78 },
  'snapshot.restore': { format: 'ipvsadm', text: `-A -t ${VIP}:8443 -s rr\n`, prune: true },
  'journal.undo': undefined,
  'journal.undoEntry': { id: 1 },
  'outside.adopt': { id: 1 },
  'outside.revert': { id: 1 },
  'destinations.restore': { service: svcKey(80), destination: destKey },
  'health.config.set': { config: { service: svcKey(80), checks: [] } },
  'health.config.remove': { service: svcKey(80) },
  'health.checkNow': { service: svcKey(80), destination: destKey },
  'health.maintenance.set': { service: svcKey(80), destination: destKey, on: true },
  'lab.setRate': { rate: 5 },
  'lab.fault': { server: 'rs2', fault: 'stop-httpd', on: true },
  'lab.ipvsadm': { args: ['-C'] },
  'ha.handover': { group: 'VI_1' },
  'ha.maintenance': { on: true },
  'ha.confirmReplicated': { seq: 1 },
  'ha.rehearse': { group: 'VI_1' },
};

/** Reads that need the operator token (their answers carry secrets: the registry's enrollment codes), with their inputs. */
const OPERATOR_QUERIES: Record<string, unknown> = {
  'ha.registry': undefined,
};

type Proc = { path: string; type: 'query' | 'mutation' | 'subscription' };
// the lab's API is the production one plus lab.*: the matrix covers both (a test below checks the first is inside the second)
const procs: Proc[] = Object.entries(labAppRouter._def.procedures as unknown as Record<string, { _def: { type: Proc['type'] } }>)
  .map(([path, p]) => ({ path, type: p._def.type }));
const mutations = procs.filter((p) => p.type === 'mutation');
const queries = procs.filter((p) => p.type === 'query');
const subscriptions = procs.filter((p) => p.type === 'subscription');

let backend: IpvsBackend;
let hub: TableHub;
let srv: AgentServer;
let journal: Journal;

/** Everything a refused write must leave alone. */
function observed(): { save: string; timeouts: string; thresholds: string } {
  return { save: ipvsadm('-Sn'), timeouts: ipvsadm('-L', '--timeout'), thresholds: ipvsadm('-Ln', '--thresholds') };
}

async function call(p: Proc, input: unknown, token: string | null): Promise<{ status: number; code?: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const base = `${srv.url}/trpc/${p.path}`;
  const res = p.type === 'mutation'
    ? await fetch(base, { method: 'POST', headers, body: input === undefined ? '' : JSON.stringify(input) })
    : await fetch(input === undefined ? base : `${base}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { data?: { code?: string } } }).error?.data?.code;
  } catch { /* not JSON (a stream): the status says enough */ }
  return { status: res.status, code };
}

function ws(token: string | null, origin?: string) {
  const closes: number[] = [];
  const wsc = createWSClient({
    url: srv.wsUrl!,
    WebSocket: class extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, origin ? { headers: { origin } } : {});
      }
    } as unknown as typeof globalThis.WebSocket,
    ...(token === null ? {} : { connectionParams: { token } }),
    onClose: (c) => { closes.push(c?.code ?? 0); },
    retryDelayMs: () => 60_000,
  });
  return { wsc, closes, c: createTRPCClient<AppRouter>({ links: [wsLink({ client: wsc })] }) };
}

/** A raw upgrade: the HTTP status the agent answers it with (101 when it is accepted). */
function upgradeStatus(origin: string | undefined, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = new WebSocket(srv.wsUrl!, { headers: { ...headers, ...(origin ? { origin } : {}) } });
    sock.once('open', () => { sock.close(); resolve(101); });
    sock.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); sock.terminate(); });
    sock.on('error', (e) => reject(e)); // after a refusal this comes second and changes nothing
  });
}

/**
 * How a subscription ends: 'data' when it delivered something, 'closed' when
 * the agent closed the socket first, else the error code or 'timeout'.
 */
function subscriptionOutcome(client: ReturnType<typeof ws>, path: string, input: unknown): Promise<string> {
  const [a, b] = path.split('.') as [string, string];
  const proc = (client.c as unknown as Record<string, Record<string, { subscribe: (i: unknown, o: object) => { unsubscribe(): void } }>>)[a]![b]!;
  const closedBefore = client.closes.length;
  return new Promise((resolve) => {
    const finish = (r: string) => { clearInterval(poll); clearTimeout(t); sub.unsubscribe(); resolve(r); };
    const t = setTimeout(() => finish('timeout'), 15_000);
    const poll = setInterval(() => { if (client.closes.length > closedBefore) finish('closed'); }, 20);
    const sub = proc.subscribe(input, {
      onData: () => finish('data'),
      // an error without a server code is the link reporting the socket the agent closed
      onError: (e: unknown) => finish(e instanceof TRPCClientError ? (e.data?.code as string | undefined) ?? `closed: ${e.message}` : String(e)),
    });
  });
}

const SUB_INPUTS: Record<string, unknown> = {
  'destinations.onDrain': { service: svcKey(80), destination: destKey },
  'snapshot.onRestoreProgress': { progressId: 'abcdefgh12' },
};

beforeAll(async () => {
  backend = await openIpvs();
  await backend.flush();
  ipvsadmRestore(TABLE);
  ipvsadm('--set', '900', '120', '300');
  journal = await Journal.open(null);
  hub = new TableHub({ backend, log, tickMs: 500, structure: procIpvsFile() });
  hub.start();
  srv = await startAgentServer({
    deps: { backend, hub, journal, writeLock: new Mutex(), log, conns: null, version: 'kernel-test', startedAt: Date.now() },
    // the matrix sends hundreds of wrong tokens: the limiter is tested on its own below
    auth: Auth.fromTokens(TOKENS, log, { maxFailures: 1_000_000 }),
    listen: { host: '127.0.0.1', port: 0 },
    allowOrigins: [ORIGIN],
    router: labAppRouter,
  });
});

afterAll(async () => {
  await srv?.close();
  hub?.close();
  await backend?.flush().catch(() => undefined);
  backend?.close();
  ipvsadm('--set', '900', '120', '300');
});

describe('auth matrix on the lab kernel', () => {
  it('finds the write procedures to try in the router itself', () => {
    // procedures added later are tried too (with `{}` when WRITES has no input for them)
    expect(mutations.length).toBeGreaterThanOrEqual(15);
    expect(mutations.map((m) => m.path)).toEqual(expect.arrayContaining(['services.create', 'snapshot.restore', 'journal.undo', 'lab.ipvsadm']));
    // every production procedure is in the matrix
    expect(procs.map((p) => p.path)).toEqual(expect.arrayContaining(Object.keys(appRouter._def.procedures)));
  });

  it('refuses every procedure without a token, with a wrong token, and every write with the viewer token; the table is unchanged', async () => {
    // an operator write goes through first: the journal then has something a refused undo could undo
    const op = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${srv.url}/trpc`, headers: { authorization: `Bearer ${TOKENS.operator}` } })] });
    await op.destinations.update.mutate({ service: svcKey(80) as never, destination: destKey as never, patch: { weight: 4 } });
    expect(ipvsadm('-Sn')).toContain(`-a -t ${VIP}:80 -r 192.168.171.21:80 -g -w 4`);
    const before = observed();
    const journalBefore = await journal.list({ limit: 100 });
    expect(journalBefore).toHaveLength(1);

    const refusals: string[] = [];
    for (const p of [...queries, ...mutations]) {
      const input = p.type === 'mutation' ? WRITES[p.path] ?? {} : undefined;
      const none = await call(p, input, null);
      const wrong = await call(p, input, WRONG);
      expect(none, `${p.path} without a token`).toEqual({ status: 401, code: 'UNAUTHORIZED' });
      expect(wrong, `${p.path} with a wrong token`).toEqual({ status: 401, code: 'UNAUTHORIZED' });
      refusals.push(p.path);
    }
    for (const p of mutations) {
      const viewer = await call(p, WRITES[p.path] ?? {}, TOKENS.viewer);
      expect(viewer, `${p.path} with the viewer token`).toEqual({ status: 403, code: 'FORBIDDEN' });
    }
    for (const [path, input] of Object.entries(OPERATOR_QUERIES)) {
      const p = queries.find((q) => q.path === path);
      expect(p, `${path} is a query of the router`).toBeDefined();
      expect(await call(p!, input, TOKENS.viewer), `${path} with the viewer token`).toEqual({ status: 403, code: 'FORBIDDEN' });
      // the operator gets past the role check (this agent has no HA: nothing to read)
      expect(await call(p!, input, TOKENS.operator), `${path} with the operator token`).toEqual({ status: 412, code: 'PRECONDITION_FAILED' });
    }
    expect(refusals).toHaveLength(queries.length + mutations.length);
    expect(observed()).toEqual(before);
    expect(await journal.list({ limit: 100 })).toEqual(journalBefore);

    // the viewer token is valid (reads work), so the refusals above are about the role
    const viewerOk = await call(queries.find((q) => q.path === 'services.list')!, undefined, TOKENS.viewer);
    expect(viewerOk.status).toBe(200);
  });

  it('refuses every write with the viewer token over the WebSocket, and subscriptions without a valid token', async () => {
    const before = observed();
    const viewer = ws(TOKENS.viewer, ORIGIN);
    try {
      for (const p of mutations) {
        const [a, ...rest] = p.path.split('.');
        let node = (viewer.c as unknown as Record<string, unknown>)[a!] as Record<string, unknown>;
        for (const k of rest.slice(0, -1)) node = node[k] as Record<string, unknown>;
        const m = node[rest.at(-1)!] as { mutate: (i: unknown) => Promise<unknown> };
        const err = await m.mutate(WRITES[p.path] ?? {}).then(() => null, (e: unknown) => e);
        expect(err, `${p.path} over the WebSocket with the viewer token`).toBeInstanceOf(TRPCClientError);
        expect((err as TRPCClientError<AppRouter>).data?.code, p.path).toBe('FORBIDDEN');
      }
      // the same socket may subscribe: the viewer role reads
      expect(await subscriptionOutcome(viewer, 'stats.onTick', {})).toBe('data');
    } finally {
      viewer.wsc.close();
    }
    // a socket without a valid token is closed by the agent before any subscription delivers
    for (const token of [null, WRONG]) {
      for (const p of subscriptions) {
        const bad = ws(token, ORIGIN);
        try {
          const outcome = await subscriptionOutcome(bad, p.path, SUB_INPUTS[p.path] ?? {});
          expect(outcome === 'UNAUTHORIZED' || outcome.startsWith('closed'), `${p.path} with ${token === null ? 'no' : 'a wrong'} token: ${outcome}`).toBe(true);
        } finally {
          bad.wsc.close();
        }
      }
    }
    expect(observed()).toEqual(before);
  });

  it('refuses WebSocket upgrades from a disallowed Origin, whatever token follows', async () => {
    expect(await upgradeStatus(ORIGIN)).toBe(101);
    expect(await upgradeStatus(undefined)).toBe(101); // not a browser: judged by its token alone
    for (const origin of ['http://evil.test', 'http://console.test:3001', 'https://console.test:3000', 'null']) {
      expect(await upgradeStatus(origin), origin).toBe(403);
    }
    // an operator token does not help a page from another origin
    const before = observed();
    expect(await upgradeStatus('http://evil.test', { authorization: `Bearer ${TOKENS.operator}` })).toBe(403);
    expect(observed()).toEqual(before);
  });

  it('blocks wrong tokens from an address after repeated failures, never the right one', async () => {
    const strict = await startAgentServer({
      deps: { backend, hub, journal, writeLock: new Mutex(), log, conns: null, version: 'kernel-test', startedAt: Date.now() },
      auth: Auth.fromTokens(TOKENS, log, { maxFailures: 3, blockMs: 60_000 }),
      listen: { host: '127.0.0.1', port: 0 },
      allowOrigins: [ORIGIN],
    });
    try {
      const get = (token: string) => fetch(`${strict.url}/trpc/auth.whoami`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
      expect(await get(TOKENS.operator)).toBe(200);
      expect([await get(WRONG), await get(WRONG), await get(WRONG)]).toEqual([401, 401, 401]);
      for (let i = 0; i < 9; i++) expect(await get(WRONG)).toBe(429);
      // a dozen wrong tokens later the right ones still work, over HTTP, /metrics and the WebSocket
      expect(await get(TOKENS.operator)).toBe(200);
      expect((await fetch(`${strict.url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } })).status).toBe(200);
      const sock = new WebSocket(strict.wsUrl!, { headers: { origin: ORIGIN, authorization: `Bearer ${TOKENS.viewer}` } });
      sock.on('error', () => undefined);
      const status = await new Promise<number>((resolve) => {
        sock.once('open', () => { sock.close(); resolve(101); });
        sock.once('unexpected-response', (_q, res) => { resolve(res.statusCode ?? 0); sock.terminate(); });
      });
      expect(status).toBe(101);
    } finally {
      await strict.close();
    }
  });
});
