/**
 * The console names the signed-in user to a real agent (on the fake kernel), signed:
 * the agent's journal then records the person, for an admin and an operator alike.
 *
 *   browser stand-in ──cookie──▶ console (createConsoleApp) ──token + x-director-actor──▶ agent
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTRPCClient, httpLink } from '@trpc/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceKey } from '../lib/ipvs/model';
import { Auth } from '../server/api/auth';
import type { AppRouter } from '../server/api/router';
import { startAgentServer, type AgentServer } from '../server/api/server';
import { makeDeps, silentLog } from '../server/api/testing';
import { createConsoleApp, type ConsoleApp } from './app';
import { UserStore } from './users';

const VIP: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 };
const RS1 = { family: 'inet' as const, address: '10.0.0.1', port: 80 };
const TOKENS = { viewer: 'viewer_' + 'v'.repeat(40), operator: 'operator_' + 'o'.repeat(40) };

let deps: Awaited<ReturnType<typeof makeDeps>>;
let srv: AgentServer;
let app: ConsoleApp;
let base: string;
let dir: string;

beforeEach(async () => {
  deps = await makeDeps({ tickMs: 50 });
  srv = await startAgentServer({ deps, auth: Auth.fromTokens(TOKENS, silentLog), listen: { host: '127.0.0.1', port: 0 }, allowOrigins: [] });
  await deps.fake.addService({ key: VIP, scheduler: 'wlc', flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0, netmask: '255.255.255.255', pe: null });
  await deps.fake.addDestination(VIP, { ...RS1, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' } });
  dir = mkdtempSync(path.join(tmpdir(), 'director-actor-'));
  const store = new UserStore(path.join(dir, 'users.json'));
  await store.add('alice', 'admin', 'alice password');
  await store.add('bob', 'operator', 'bob password 1');
  app = await createConsoleApp({
    dev: false, log: () => {}, handleNext: async (_q, res) => { res.end(); },
    cfg: {
      file: null, listen: { host: '127.0.0.1', port: 0 }, stateDir: dir, usersFile: path.join(dir, 'users.json'), envUsers: null,
      agents: [{ id: 'lab', name: 'Lab', url: srv.url, viewerToken: TOKENS.viewer, operatorToken: TOKENS.operator, trpcPath: '/trpc', wsPath: '/trpc-ws' }],
      allowedOrigins: [], secureCookies: false, demo: false, allowRoot: false, tls: null,
    },
  });
  await new Promise<void>((r) => app.server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await app.close();
  await srv.close();
  deps.hub.close();
  rmSync(dir, { recursive: true, force: true });
});

async function asUser(name: string, password: string) {
  const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ username: name, password }) });
  expect(res.status).toBe(200);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${base}/api/trpc/lab`, headers: () => ({ cookie, origin: base }) })] });
}

describe('the agent journal names the console user', () => {
  it.each([['alice', 'admin', 'alice password'], ['bob', 'operator', 'bob password 1']])('%s (%s in the console) writes with the operator token, named', async (name, _role, password) => {
    const c = await asUser(name, password);
    await c.destinations.update.mutate({ service: VIP, destination: RS1, patch: { weight: 5 } });
    expect(deps.journal.list({ limit: 1 })[0]).toMatchObject({ actor: name, role: 'operator', op: 'destinations.update' });
  });
});
