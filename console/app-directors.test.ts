/**
 * The console app with the Directors API end to end: an admin enrolls a real
 * agent (TLS, in-memory fake kernel) from a code, every user then sees it and
 * reads it through the pinned connection, and removing it revokes the
 * console's credential on the agent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ServiceKey } from '../lib/ipvs/model';
import { Auth } from '../server/api/auth';
import { Credentials } from '../server/api/credentials';
import { createEnrollment, Enrollment } from '../server/api/enroll';
import { startAgentServer, type AgentServer } from '../server/api/server';
import { makeDeps, silentLog } from '../server/api/testing';
import { initCa, issueAgentCert } from '../server/pki/pki';
import { createConsoleApp, type ConsoleApp } from './app';
import type { ConsoleConfig } from './config';
import { UserStore } from './users';

const VIP: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.0.2.77', port: 80 };
let dir: string;
let srv: AgentServer;
let deps: Awaited<ReturnType<typeof makeDeps>>;
let app: ConsoleApp;
let base: string;
let fingerprint: string;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'director-app-dirs-'));
  await initCa({ dir: path.join(dir, 'pki') });
  const leaf = await issueAgentCert({ caDir: path.join(dir, 'pki'), name: 'lvs1', ips: ['127.0.0.1'], outDir: path.join(dir, 'tls') });
  fingerprint = leaf.fingerprint;
  deps = await makeDeps({ tickMs: 50 });
  const credentials = await Credentials.open(path.join(dir, 'agent'));
  srv = await startAgentServer({
    deps, auth: Auth.fromTokens({ viewer: `viewer_${'v'.repeat(43)}`, operator: `operator_${'o'.repeat(43)}` }, silentLog, { credentials }),
    listen: { host: '127.0.0.1', port: 0 }, tls: { cert: await readFile(leaf.cert), key: await readFile(leaf.key) }, allowOrigins: [],
    enroll: new Enrollment({ stateDir: path.join(dir, 'agent'), credentials, log: silentLog, directorId: 'lvs1' }),
  });
  await deps.fake.addService({ key: VIP, scheduler: 'rr', flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0, netmask: '255.255.255.255', pe: null });
  const users = new UserStore(path.join(dir, 'console', 'users.json'));
  await users.add('alice', 'admin', 'alice password');
  await users.add('bob', 'operator', 'bob password 1');
  const cfg: ConsoleConfig = {
    file: null, listen: { host: '127.0.0.1', port: 0 }, stateDir: path.join(dir, 'console'), usersFile: path.join(dir, 'console', 'users.json'), envUsers: null,
    agents: [], allowedOrigins: [], secureCookies: false, demo: false, allowRoot: false, tls: null,
  };
  app = await createConsoleApp({ cfg, dev: false, log: () => {}, handleNext: async (_q, res) => { res.end('page'); } });
  await new Promise<void>((r) => app.server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await app.close();
  await srv.close();
  deps.hub.close();
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(username: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ username, password }) });
  expect(res.status).toBe(200);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}
const call = async (cookie: string, method: string, p: string, body?: unknown) => {
  const res = await fetch(`${base}${p}`, { method, headers: { cookie, origin: base, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

it('an admin enrolls a director from a code; users read it over the pinned TLS link; removal revokes', async () => {
  const admin = await signIn('alice', 'alice password');
  const bob = await signIn('bob', 'bob password 1');
  const { code } = await createEnrollment({ stateDir: path.join(dir, 'agent'), url: srv.url, fingerprint });

  expect((await call(bob, 'POST', '/api/directors', { code })).status).toBe(403);
  const add = await call(admin, 'POST', '/api/directors', { code, name: 'lvs1' });
  expect(add).toEqual({ status: 201, body: { director: { id: 'lvs1', name: 'lvs1', url: srv.url, fingerprint } } });
  expect((await call(admin, 'POST', '/api/directors', { code })).body.error).toMatch(/unknown or was already used/);

  expect((await call(bob, 'GET', '/api/me')).body.directors).toEqual([{ id: 'lvs1', name: 'lvs1', role: 'operator' }]);
  const read = await fetch(`${base}/api/trpc/lvs1/services.list`, { headers: { cookie: bob } });
  expect(read.status).toBe(200);
  expect(await read.text()).toContain('192.0.2.77');
  // an admin is an operator on the agent: the signed actor must name the token's role, not 'admin'
  const adminRead = await fetch(`${base}/api/trpc/lvs1/services.list`, { headers: { cookie: admin } });
  expect(adminRead.status, await adminRead.clone().text()).toBe(200);
  expect(await adminRead.text()).toContain('192.0.2.77');

  expect((await call(admin, 'DELETE', '/api/directors/lvs1')).body).toEqual({ removed: 'lvs1', revoked: true, revokeError: null });
  expect((await call(bob, 'GET', '/api/me')).body.directors).toEqual([]);
  expect((await Credentials.open(path.join(dir, 'agent'))).list()).toEqual([]);
});
