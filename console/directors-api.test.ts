/**
 * The Directors page's API over a real HTTP listener: admins only; enroll from
 * a code (redeem stubbed: console/enroll.test.ts runs it against a real agent),
 * rename, remove (with the credential given back), and clear refusals.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentsStore, agentsFile } from './agents-store';
import type { AgentConfig } from './config';
import { allAgents, handleDirectorsApi, type DirectorsDeps } from './directors-api';

const FP = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':');
const configured: AgentConfig[] = [{ id: 'lab', name: 'Lab', url: 'http://127.0.0.1:7070', viewerToken: 'v'.repeat(20), trpcPath: '/trpc', wsPath: '/trpc-ws' }];

let dir: string;
let base: string;
let server: http.Server;
let role = 'admin';
let revoked: string[];
let deps: DirectorsDeps;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'director-dirs-'));
  revoked = [];
  role = 'admin';
  deps = {
    store: new AgentsStore(agentsFile(dir)),
    configured: () => configured,
    consoleName: 'test',
    redeem: async (code) => {
      if (code !== 'good') throw new Error('the agent at https://127.0.0.1:1 refused the code: this enrollment code is unknown or was already used');
      return { url: 'https://127.0.0.1:9580', fingerprint: FP, directorId: 'lvs1', credentialId: 'c1', viewerToken: `viewer_${'a'.repeat(43)}`, operatorToken: `operator_${'b'.repeat(43)}` };
    },
    revoke: async (a) => { revoked.push(a.operatorToken); },
  };
  server = http.createServer((req, res) => {
    const json = (r: http.ServerResponse, s: number, b: unknown) => r.writeHead(s, { 'content-type': 'application/json' }).end(JSON.stringify(b));
    const readBody = async (q: http.IncomingMessage) => { let t = ''; for await (const c of q) t += String(c); return t; };
    void handleDirectorsApi(req, res, new URL(req.url!, 'http://x').pathname, role, deps, readBody, json).then((mine) => { if (!mine) res.writeHead(404).end(); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/directors`;
});
afterEach(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

const call = async (method: string, url: string, body?: unknown) => {
  const r = await fetch(url, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

describe('/api/directors', () => {
  it('only admins may use it', async () => {
    role = 'operator';
    expect(await call('GET', base)).toEqual({ status: 403, body: { error: 'Managing directors needs the admin role.' } });
    expect((await call('POST', base, { code: 'good' })).status).toBe(403);
    expect(deps.store.list()).toEqual([]);
  });

  it('enrolls from a code, lists, renames and removes (giving the credential back); tokens never in answers', async () => {
    const add = await call('POST', base, { code: 'good', name: 'LVS one' });
    expect(add.status).toBe(201);
    expect(add.body.director).toEqual({ id: 'lvs-one', name: 'LVS one', url: 'https://127.0.0.1:9580', fingerprint: FP });
    expect((await stat(agentsFile(dir))).mode & 0o777).toBe(0o600);

    const list = await call('GET', base);
    expect(JSON.stringify(list.body)).not.toContain('aaaaaaaa');
    expect((list.body.directors as { id: string; source: string }[]).map((d) => [d.id, d.source])).toEqual([['lab', 'configured'], ['lvs-one', 'enrolled']]);
    expect(allAgents(deps).map((a) => [a.id, a.fingerprint ?? null])).toEqual([['lab', null], ['lvs-one', FP]]);

    expect((await call('PATCH', `${base}/lvs-one`, { name: 'Director 1' })).body).toEqual({ director: { id: 'lvs-one', name: 'Director 1' } });
    expect((await call('PATCH', `${base}/lvs-one`, { name: '   ' })).status).toBe(400);
    expect(deps.store.list()[0]!.name).toBe('Director 1');

    expect((await call('DELETE', `${base}/lvs-one`)).body).toEqual({ removed: 'lvs-one', revoked: true, revokeError: null });
    expect(revoked).toEqual([`operator_${'b'.repeat(43)}`]);
    expect(deps.store.list()).toEqual([]);
  });

  it('refusals say why and change nothing', async () => {
    expect(await call('POST', base, { code: 'used' })).toEqual({ status: 400, body: { error: expect.stringContaining('unknown or was already used'), field: 'code' } });
    expect((await call('POST', base, { nope: 1 })).status).toBe(400);
    expect((await call('DELETE', `${base}/lab`)).body.error).toBe("Director 'lab' comes from the console's configuration file; change it there.");
    expect((await call('DELETE', `${base}/ghost`)).status).toBe(404);
    // the same agent twice: refused, and the second credential is given back at once
    expect((await call('POST', base, { code: 'good' })).status).toBe(201);
    const again = await call('POST', base, { code: 'good', name: 'other' });
    expect(again.status).toBe(409);
    expect(again.body.error).toContain('already enrolled');
    expect(revoked).toHaveLength(1);
    expect(deps.store.list()).toHaveLength(1);
  });
});
