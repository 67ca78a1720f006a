/**
 * /api/directors/registered and /approve with a stand-in for the agents'
 * ha.registry: registered directors the console does not know yet are listed
 * without their codes; approving reads the code again server-side and redeems
 * it as a pasted code would be.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeCode } from '../lib/enroll/code';
import type { RegistryListing } from '../lib/enroll/registry';
import { AgentsStore, agentsFile } from './agents-store';
import type { AgentConfig } from './config';
import { handleDirectorsApi, type DirectorsDeps } from './directors-api';

const fp = (n: number) => Array.from({ length: 32 }, (_, i) => ((i + n) % 256).toString(16).padStart(2, '0').toUpperCase()).join(':');
const codeFor = (host: string, n: number, s: string) => encodeCode({ url: `https://${host}:9580`, fingerprint: fp(n), secret: s.repeat(43) });
const entry = (id: string, host: string, n: number, s: string) => ({ directorId: id, url: `https://${host}:9580`, fingerprint: fp(n), code: codeFor(host, n, s) });

const OP = `operator_${'b'.repeat(43)}`;
const configured: AgentConfig[] = [
  { id: 'lvs1', name: 'LVS 1', url: 'https://10.0.0.1:9580', fingerprint: fp(1), viewerToken: 'v'.repeat(40), operatorToken: OP, trpcPath: '/trpc', wsPath: '/trpc-ws' },
  { id: 'ro', name: 'Read only', url: 'https://10.0.0.9:9580', fingerprint: fp(9), viewerToken: 'v'.repeat(40), trpcPath: '/trpc', wsPath: '/trpc-ws' },
];

let dir: string;
let base: string;
let server: http.Server;
let deps: DirectorsDeps;
let listing: RegistryListing;
let asked: string[];
let redeemed: string[];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'director-registry-'));
  asked = [];
  redeemed = [];
  listing = {
    entries: [
      entry('lvs1', '10.0.0.1', 1, 'A'), // the console knows it (configured)
      entry('lvs2', '10.0.0.2', 2, 'B'),
      entry('lvs3', '10.0.0.3', 1, 'C'), // another id, but lvs1's certificate: the same agent
    ],
    skipped: [{ node: 'junk', reason: 'no data' }],
  };
  deps = {
    store: new AgentsStore(agentsFile(dir)),
    configured: () => configured,
    consoleName: 'test',
    registry: async (a) => {
      asked.push(a.id);
      return listing;
    },
    redeem: async (code) => {
      redeemed.push(code);
      if (code !== listing.entries[1]!.code) throw new Error('the agent refused the code: this enrollment code is unknown or was already used');
      return { url: 'https://10.0.0.2:9580', fingerprint: fp(2), directorId: 'lvs2', credentialId: 'c2', viewerToken: `viewer_${'a'.repeat(43)}`, operatorToken: `operator_${'c'.repeat(43)}` };
    },
    revoke: async () => {},
  };
  server = http.createServer((req, res) => {
    const json = (r: http.ServerResponse, s: number, b: unknown) => r.writeHead(s, { 'content-type': 'application/json' }).end(JSON.stringify(b));
    const readBody = async (q: http.IncomingMessage) => { let t = ''; for await (const c of q) t += String(c); return t; };
    const role = req.headers['x-role'] === 'operator' ? 'operator' : 'admin';
    void handleDirectorsApi(req, res, new URL(req.url!, 'http://x').pathname, role, deps, readBody, json).then((mine) => { if (!mine) res.writeHead(404).end(); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/directors`;
});
afterEach(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

const call = async (method: string, url: string, body?: unknown, role = 'admin') => {
  const r = await fetch(url, { method, headers: { 'x-role': role, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, text: await r.text() };
};

describe('registered directors', () => {
  it('lists the ones not enrolled yet, without their codes, asking only directors it holds an operator token for', async () => {
    const r = await call('GET', `${base}/registered`);
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text) as { registered: unknown[]; problems: string[] };
    expect(body.registered).toEqual([{ directorId: 'lvs2', url: 'https://10.0.0.2:9580', fingerprint: fp(2), seenBy: ['LVS 1'] }]);
    expect(body.problems).toEqual(["LVS 1: registry entry 'junk' skipped: no data"]);
    expect(r.text).not.toContain('director-enroll-');
    expect(asked).toEqual(['lvs1']);
  });

  it('says which director could not be asked, and is quiet about one without high availability', async () => {
    deps.registry = async () => { throw Object.assign(new Error('high availability is not configured on lvs1'), { code: 'PRECONDITION_FAILED' }); };
    expect(JSON.parse((await call('GET', `${base}/registered`)).text)).toEqual({ registered: [], problems: [] });
    deps.registry = async () => { throw new Error('connect ECONNREFUSED 10.0.0.1:9580'); };
    expect(JSON.parse((await call('GET', `${base}/registered`)).text).problems).toEqual(['LVS 1: connect ECONNREFUSED 10.0.0.1:9580']);
  });

  it('approving redeems the code read again on the server, then the director is enrolled and no longer waiting', async () => {
    const r = await call('POST', `${base}/approve`, { directorId: 'lvs2' });
    expect(r.status).toBe(201);
    expect(JSON.parse(r.text)).toEqual({ director: { id: 'lvs2', name: 'lvs2', url: 'https://10.0.0.2:9580', fingerprint: fp(2) } });
    expect(redeemed).toEqual([listing.entries[1]!.code]);
    expect(deps.store.list().map((a) => a.id)).toEqual(['lvs2']);
    expect(JSON.parse((await call('GET', `${base}/registered`)).text).registered).toEqual([]);
    // approved once: the second time there is nothing to approve
    expect((await call('POST', `${base}/approve`, { directorId: 'lvs2' })).status).toBe(404);
    expect(redeemed).toHaveLength(1);
  });

  it('refuses to approve a known director, an unknown one, bad input, and anyone but an admin', async () => {
    for (const id of ['lvs1', 'lvs3', 'nope']) {
      const r = await call('POST', `${base}/approve`, { directorId: id });
      expect(r.status, id).toBe(404);
      expect(r.text).toContain('is waiting for approval');
    }
    expect((await call('POST', `${base}/approve`, { code: listing.entries[1]!.code })).status).toBe(400);
    expect((await call('POST', `${base}/approve`, { directorId: 'lvs2', name: 'x'.repeat(81) })).status).toBe(400);
    expect((await call('GET', `${base}/registered`, undefined, 'operator')).status).toBe(403);
    expect((await call('POST', `${base}/approve`, { directorId: 'lvs2' }, 'operator')).status).toBe(403);
    expect(redeemed).toEqual([]);
    expect(deps.store.list()).toEqual([]);
  });
});
