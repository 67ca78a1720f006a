import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createConsoleApp, type ConsoleApp } from './app';
import type { ConsoleConfig } from './config';
import { UserStore } from './users';
import { verifyActor } from '../lib/auth/actor';

const VIEWER = 'v'.repeat(24);
const OPERATOR = 'o'.repeat(24);

/** A stand-in agent: answers tRPC HTTP with the token it saw, accepts WebSockets. */
let agent: http.Server;
let agentWss: WebSocketServer;
let agentUrl: string;
const agentSockets = new Set<WebSocket>();
const wsActors: string[] = [];
beforeAll(async () => {
  agent = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ auth: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null, actor: req.headers['x-director-actor'] ?? null }));
  });
  agentWss = new WebSocketServer({ server: agent });
  agentWss.on('connection', (ws, req) => {
    wsActors.push(String(req.headers['x-director-actor']));
    agentSockets.add(ws);
    ws.on('close', () => agentSockets.delete(ws));
    ws.send('hello');
  });
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r));
  agentUrl = `http://127.0.0.1:${(agent.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of agentSockets) s.terminate();
  await new Promise((r) => agent.close(r));
});

let dir: string;
let app: ConsoleApp | null = null;
let base: string;
let store: UserStore;
afterEach(async () => {
  await app?.close();
  app = null;
  rmSync(dir, { recursive: true, force: true });
});

function config(over: Partial<ConsoleConfig> = {}): ConsoleConfig {
  return {
    file: null, listen: { host: '127.0.0.1', port: 0 }, stateDir: dir, usersFile: path.join(dir, 'users.json'), envUsers: null,
    agents: [{ id: 'lab', name: 'Lab', url: agentUrl, viewerToken: VIEWER, operatorToken: OPERATOR, trpcPath: '/trpc', wsPath: '/trpc-ws' }],
    allowedOrigins: [], secureCookies: false, demo: false, allowRoot: false, tls: null, ...over,
  };
}

async function start(over: Partial<ConsoleConfig> = {}, scheme = 'http', sessionTtlMs?: number): Promise<void> {
  app = await createConsoleApp({
    cfg: config(over), dev: false, log: () => {}, usersPollMs: 100, sessionTtlMs,
    handleNext: async (_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>page</html>'); },
  });
  await new Promise<void>((r) => app!.server.listen(0, '127.0.0.1', r));
  base = `${scheme}://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function setup(): Promise<void> {
  dir = mkdtempSync(path.join(tmpdir(), 'director-console-'));
  store = new UserStore(path.join(dir, 'users.json'));
  await store.add('alice', 'admin', 'alice password');
  await store.add('bob', 'operator', 'bob password 1');
  await store.add('vera', 'viewer', 'vera password');
}

const origin = () => ({ origin: base });
async function signIn(username: string, password: string, addr?: string): Promise<{ status: number; cookie: string | null; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...origin(), ...(addr ? { 'x-test': addr } : {}) }, body: JSON.stringify({ username, password }) });
  const set = res.headers.get('set-cookie');
  return { status: res.status, cookie: set ? set.split(';')[0]! : null, body: (await res.json()) as Record<string, unknown> };
}
const me = (cookie: string) => fetch(`${base}/api/me`, { headers: { cookie } });

function openWs(cookie: string): Promise<{ ws: WebSocket; closed: Promise<{ code: number; at: number }> }> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/trpc-ws?director=lab`, { headers: { cookie, origin: base } });
  const closed = new Promise<{ code: number; at: number }>((r) => ws.on('close', (code) => r({ code, at: Date.now() })));
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve({ ws, closed }));
    ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('sessions held by the console', () => {
  it('signs in with the hashed users file and forwards with the role\'s token, never the cookie', async () => {
    await setup();
    await start();
    const { status, cookie, body } = await signIn('bob', 'bob password 1');
    expect(status).toBe(200);
    expect(body).toEqual({ user: { name: 'bob', role: 'operator' } });
    const r = (await (await fetch(`${base}/api/trpc/lab/services.list`, { headers: { cookie: cookie! } })).json()) as Record<string, unknown>;
    expect(r).toMatchObject({ auth: `Bearer ${OPERATOR}`, cookie: null });
    const v = await signIn('vera', 'vera password');
    expect(((await (await fetch(`${base}/api/trpc/lab/x`, { headers: { cookie: v.cookie! } })).json()) as { auth: string }).auth).toBe(`Bearer ${VIEWER}`);
    expect((await signIn('bob', 'wrong password')).status).toBe(401);
    expect((await signIn('nobody', 'bob password 1')).status).toBe(401);
  });

  it('logout ends the session on the server: its WebSocket closes and the old cookie no longer works', async () => {
    await setup();
    await start();
    const { cookie } = await signIn('bob', 'bob password 1');
    expect((await me(cookie!)).status).toBe(200);
    const { closed } = await openWs(cookie!);
    const out = await fetch(`${base}/api/session/logout`, { method: 'POST', headers: { cookie: cookie!, ...origin() }, redirect: 'manual' });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/director_session=; .*Max-Age=0/);
    expect((await closed).code).toBe(4401);
    expect((await me(cookie!)).status).toBe(401);
  });

  it('removing a user (as the CLI does, in the file) ends their sessions and closes their open WebSocket within a second', async () => {
    await setup();
    await start();
    const bob = await signIn('bob', 'bob password 1');
    const alice = await signIn('alice', 'alice password');
    const { closed } = await openWs(bob.cookie!);
    const { ws: aliceWs } = await openWs(alice.cookie!);
    expect(agentSockets.size).toBeGreaterThanOrEqual(2);
    const t0 = Date.now();
    new UserStore(path.join(dir, 'users.json')).remove('bob');
    const { code, at } = await closed;
    expect(code).toBe(4401);
    expect(at - t0).toBeLessThan(1000);
    expect((await me(bob.cookie!)).status).toBe(401);
    await expect(openWs(bob.cookie!)).rejects.toThrow(/401/);
    // others are untouched
    expect(aliceWs.readyState).toBe(WebSocket.OPEN);
    expect((await me(alice.cookie!)).status).toBe(200);
    aliceWs.close();
  });

  it('demoting a user ends their sessions; the new sign-in carries the new role', async () => {
    await setup();
    await start();
    const bob = await signIn('bob', 'bob password 1');
    const { closed } = await openWs(bob.cookie!);
    store.setRole('bob', 'viewer');
    app!.refreshUsers();
    expect((await closed).code).toBe(4401);
    expect((await me(bob.cookie!)).status).toBe(401);
    const again = await signIn('bob', 'bob password 1');
    expect(again.body).toEqual({ user: { name: 'bob', role: 'viewer' } });
  });

  it('an expired session closes its open WebSocket even when nothing else is asked', async () => {
    await setup();
    await start({}, 'http', 1500);
    const bob = await signIn('bob', 'bob password 1');
    const t0 = Date.now();
    const { closed } = await openWs(bob.cookie!);
    const { code, at } = await closed;
    expect(code).toBe(4401);
    expect(at - t0).toBeLessThan(1500 + 1000);
    expect((await me(bob.cookie!)).status).toBe(401);
  });

  it('a new password ends the sessions opened with the old one', async () => {
    await setup();
    await start();
    const bob = await signIn('bob', 'bob password 1');
    await store.setPassword('bob', 'bob password 2');
    app!.refreshUsers();
    expect((await me(bob.cookie!)).status).toBe(401);
  });
});

describe('the signed-in user reaches the agent, signed', () => {
  it('every HTTP call and WebSocket connect carries x-director-actor, signed with the token it uses', async () => {
    await setup();
    await start();
    const bob = await signIn('bob', 'bob password 1');
    const r = (await (await fetch(`${base}/api/trpc/lab/services.list`, { headers: { cookie: bob.cookie! } })).json()) as { actor: string };
    expect(await verifyActor(OPERATOR, r.actor)).toEqual({ user: 'bob', role: 'operator' });
    expect(await verifyActor(VIEWER, r.actor)).toHaveProperty('error');
    const vera = await signIn('vera', 'vera password');
    const v = (await (await fetch(`${base}/api/trpc/lab/x`, { headers: { cookie: vera.cookie! } })).json()) as { actor: string };
    expect(await verifyActor(VIEWER, v.actor)).toEqual({ user: 'vera', role: 'viewer' });
    // an admin acts with the operator token, and the header names the token's role (the agent checks they agree)
    const alice = await signIn('alice', 'alice password');
    const a = (await (await fetch(`${base}/api/trpc/lab/x`, { headers: { cookie: alice.cookie! } })).json()) as { actor: string };
    expect(await verifyActor(OPERATOR, a.actor)).toEqual({ user: 'alice', role: 'operator' });
    wsActors.length = 0;
    const { ws } = await openWs(bob.cookie!);
    expect(wsActors).toHaveLength(1);
    expect(await verifyActor(OPERATOR, wsActors[0]!)).toEqual({ user: 'bob', role: 'operator' });
    ws.close();
  });
});

describe('users page API', () => {
  it('lets an admin add, change and remove users, and ends the sessions it changes', async () => {
    await setup();
    await start();
    const alice = (await signIn('alice', 'alice password')).cookie!;
    const bob = (await signIn('bob', 'bob password 1')).cookie!;
    const call = (method: string, p: string, body?: unknown, cookie = alice) =>
      fetch(`${base}${p}`, { method, headers: { cookie, 'content-type': 'application/json', ...origin() }, body: body ? JSON.stringify(body) : undefined });
    expect((await call('GET', '/api/users', undefined, bob)).status).toBe(403);
    expect((await call('POST', '/api/users', { name: 'x', role: 'admin', password: 'x password long' }, bob)).status).toBe(403);
    const list = (await (await call('GET', '/api/users')).json()) as { users: unknown[]; editable: boolean };
    expect(list).toMatchObject({ editable: true, users: [{ name: 'alice', role: 'admin' }, { name: 'bob', role: 'operator' }, { name: 'vera', role: 'viewer' }] });
    expect((await call('POST', '/api/users', { name: 'dave', role: 'operator', password: 'dave password' })).status).toBe(200);
    expect((await signIn('dave', 'dave password')).status).toBe(200);
    const bad = await call('POST', '/api/users', { name: 'eve', role: 'root', password: 'eve password' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/role must be one of viewer, operator, admin/);
    expect((await call('PATCH', '/api/users/bob', { role: 'viewer' })).status).toBe(200);
    expect((await me(bob)).status).toBe(401);
    const last = await call('DELETE', '/api/users/alice');
    expect(last.status).toBe(409);
    expect(((await last.json()) as { error: string }).error).toMatch(/at least one admin/);
    expect((await call('DELETE', '/api/users/dave')).status).toBe(200);
    expect((await signIn('dave', 'dave password')).status).toBe(401);
    const fresh = new UserStore(path.join(dir, 'users.json'));
    fresh.reload();
    expect(fresh.list().map((u) => [u.name, u.role])).toEqual([['alice', 'admin'], ['bob', 'viewer'], ['vera', 'viewer']]);
  });
});

describe('users fixed by DIRECTOR_CONSOLE_USERS (lab scripts, screenshots)', () => {
  it('sign in with the given passwords (hashed at start, the plain text dropped); the Users page is read-only', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'director-console-'));
    const envUsers = [{ username: 'op', password: 'operator-pw', role: 'operator' as const }, { username: 'boss', password: 'boss password', role: 'admin' as const }];
    await start({ envUsers });
    expect(envUsers.map((u) => u.password)).toEqual(['', '']);
    expect((await signIn('op', 'operator-pw')).status).toBe(200);
    const boss = (await signIn('boss', 'boss password')).cookie!;
    const list = await fetch(`${base}/api/users`, { headers: { cookie: boss } });
    expect(await list.json()).toMatchObject({ editable: false, users: [{ name: 'op', role: 'operator' }, { name: 'boss', role: 'admin' }] });
    const add = await fetch(`${base}/api/users`, { method: 'POST', headers: { cookie: boss, origin: base, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', role: 'viewer', password: 'x password 1' }) });
    expect(add.status).toBe(409);
  });
});

describe('login limiter in the server', () => {
  it('locks a user name after ten failures from an address while other users still sign in', async () => {
    await setup();
    await start();
    for (let i = 0; i < 10; i++) expect((await signIn('bob', `wrong ${i}`)).status).toBe(401);
    const locked = await signIn('bob', 'bob password 1');
    expect(locked.status).toBe(429);
    expect((await signIn('vera', 'vera password')).status).toBe(200);
  });
});

describe('headers and TLS', () => {
  it('sends a Content-Security-Policy on every page and no HSTS over plain HTTP', async () => {
    await setup();
    await start();
    for (const p of ['/login', '/', '/api/me']) {
      const res = await fetch(`${base}${p}`, { redirect: 'manual' });
      expect(res.headers.get('content-security-policy'), p).toMatch(/default-src 'self'.*object-src 'none'.*frame-ancestors 'none'/);
      expect(res.headers.get('strict-transport-security'), p).toBeNull();
    }
    expect((await signIn('bob', 'bob password 1')).cookie).not.toBeNull();
    const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...origin() }, body: JSON.stringify({ username: 'bob', password: 'bob password 1' }) });
    expect(res.headers.get('set-cookie')).not.toMatch(/Secure/);
  });

  it('listens with TLS when configured: Secure cookies and HSTS', async () => {
    await setup();
    const cert = path.join(dir, 'c.crt');
    const key = path.join(dir, 'c.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    await start({ tls: { cert, key, hstsMaxAge: 600 }, secureCookies: true }, 'https');
    const get = (p: string, method = 'GET', body?: string) => new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = https.request(`${base}${p}`, { method, ca: execFileSync('cat', [cert]), headers: { origin: base, 'content-type': 'application/json' } }, (res) => { res.resume(); resolve(res); });
      req.on('error', reject);
      req.end(body);
    });
    const page = await get('/login');
    expect(page.headers['strict-transport-security']).toBe('max-age=600');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    const login = await get('/api/session', 'POST', JSON.stringify({ username: 'bob', password: 'bob password 1' }));
    expect(login.statusCode).toBe(200);
    expect(login.headers['set-cookie']?.[0]).toMatch(/; Secure/);
  });
});
