/**
 * Console ↔ agent over TLS with a pinned certificate, and enrollment, end to
 * end on real listeners on 127.0.0.1 (the agent on the in-memory fake kernel:
 * these tests are about TLS and credentials, not IPVS):
 *
 *   console proxy (http, 127.0.0.1:0) ──https, pinned──▶ agent (https, 127.0.0.1:0)
 *   redeemCode() ───────────────────────https, pinned──▶ /enroll/redeem
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServiceKey } from '../lib/ipvs/model';
import { CODE_PREFIX, decodeCode, encodeCode } from '../lib/enroll/code';
import { Auth } from '../server/api/auth';
import { Credentials } from '../server/api/credentials';
import { createEnrollment, Enrollment } from '../server/api/enroll';
import { startAgentServer, type AgentServer } from '../server/api/server';
import { makeDeps } from '../server/api/testing';
import { initCa, issueAgentCert } from '../server/pki/pki';
import type { AgentConfig } from './config';
import { redeemCode, revokeCredential } from './enroll-client';
import { askRegistry } from './registry-client';
import { disabledHa } from '../server/ha/service';
import { forwardHttp, forwardWebSocket, parseTrpcPath } from './proxy';

const VIP: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 };
const TOKENS = { viewer: 'viewer_' + 'v'.repeat(43), operator: 'operator_' + 'o'.repeat(43) };

let dir: string;
let stateDir: string;
let srv: AgentServer;
let deps: Awaited<ReturnType<typeof makeDeps>>;
let fingerprint: string;
let logText = '';
const closers: (() => unknown)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'director-enroll-'));
  stateDir = path.join(dir, 'state');
  logText = '';
  const log = pino({ level: 'trace' }, new Writable({ write(c, _e, cb) { logText += String(c); cb(); } }));
  await initCa({ dir: path.join(dir, 'pki') });
  const leaf = await issueAgentCert({ caDir: path.join(dir, 'pki'), name: 'lvs1', ips: ['127.0.0.1'], outDir: path.join(dir, 'tls') });
  fingerprint = leaf.fingerprint;
  deps = { ...(await makeDeps({ tickMs: 50 })), log };
  const credentials = await Credentials.open(stateDir);
  srv = await startAgentServer({
    deps,
    auth: Auth.fromTokens(TOKENS, log, { credentials }),
    listen: { host: '127.0.0.1', port: 0 },
    tls: { cert: await readFile(leaf.cert), key: await readFile(leaf.key) },
    allowOrigins: [],
    enroll: new Enrollment({ stateDir, credentials, log, directorId: 'lvs1' }),
  });
  await deps.fake.addService({ key: VIP, scheduler: 'wlc', flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0, netmask: '255.255.255.255', pe: null });
});

afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  await srv.close();
  deps.hub.close();
  await rm(dir, { recursive: true, force: true });
});

/** A console stand-in: the real proxy functions behind a plain HTTP listener, the user always an operator. */
async function consoleFor(agent: AgentConfig): Promise<string> {
  const s = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://c');
    const t = parseTrpcPath(u.pathname);
    if (!t) return res.writeHead(404).end();
    forwardHttp(req, res, agent, { sid: 'test', user: 'tester', role: 'operator' }, t.rest, u.search);
  });
  s.on('upgrade', (req, socket, head) => forwardWebSocket(req, socket, head, agent, { sid: 'test', user: 'tester', role: 'operator' }, () => true));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => { s.closeAllConnections(); s.close(r); }));
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function agentConfig(over: Partial<AgentConfig>): AgentConfig {
  return { id: 'lvs1', name: 'lvs1', url: srv.url, viewerToken: TOKENS.viewer, operatorToken: TOKENS.operator, trpcPath: '/trpc', wsPath: '/trpc-ws', ...over };
}

async function listServices(consoleAddr: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://${consoleAddr}/api/trpc/lvs1/services.list`);
  return { status: r.status, body: await r.text() };
}

function wsOpens(consoleAddr: string): Promise<{ open: boolean; detail: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://${consoleAddr}/api/trpc-ws?director=lvs1`);
    ws.on('open', () => { ws.close(); resolve({ open: true, detail: '' }); });
    ws.on('unexpected-response', (_q, res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve({ open: false, detail: `${res.statusCode} ${b}` }));
    });
    ws.on('error', (e) => resolve({ open: false, detail: e.message }));
  });
}

describe('console ↔ agent over pinned TLS', () => {
  it('the agent serves https and the console reads it (HTTP and WebSocket) through the pin', async () => {
    expect(srv.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const c = await consoleFor(agentConfig({ fingerprint }));
    const r = await listServices(c);
    expect(r.status).toBe(200);
    expect(r.body).toContain('192.0.2.10');
    expect(await wsOpens(c)).toEqual({ open: true, detail: '' });
  });

  it('a wrong fingerprint is refused with a message naming both, on HTTP and WebSocket', async () => {
    const wrong = fingerprint.startsWith('AA') ? `BB${fingerprint.slice(2)}` : `AA${fingerprint.slice(2)}`;
    const c = await consoleFor(agentConfig({ fingerprint: wrong }));
    const r = await listServices(c);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).error.message).toBe(
      `Director 'lvs1': agent lvs1 at ${srv.url}: certificate fingerprint ${fingerprint} does not match the pinned ${wrong}; ` +
        'refusing to talk to it (re-enroll the director if its certificate was replaced on purpose)',
    );
    const w = await wsOpens(c);
    expect(w.open).toBe(false);
    expect(w.detail).toContain(`certificate fingerprint ${fingerprint} does not match the pinned ${wrong}`);
    // the agent never saw the token: no request reached it (no failed-token log line, nothing served)
    expect(logText).not.toContain('wrong token');
  });
});

describe('enrollment', () => {
  it('a code gives the console its own credential once; the console then reads the agent with it', async () => {
    const { code } = await createEnrollment({ stateDir, url: srv.url, fingerprint });
    expect(code.startsWith(CODE_PREFIX)).toBe(true);
    const secret = decodeCode(code).secret;
    const got = await redeemCode(code, 'console-test');
    expect(got).toMatchObject({ url: srv.url, fingerprint, directorId: 'lvs1' });
    expect(got.viewerToken).not.toBe(TOKENS.viewer);

    // the issued credential reads through the pinned proxy
    const c = await consoleFor(agentConfig({ fingerprint, viewerToken: got.viewerToken, operatorToken: got.operatorToken }));
    const r = await listServices(c);
    expect(r.status).toBe(200);
    expect(r.body).toContain('192.0.2.10');

    // the same code again: refused, and no new credential
    await expect(redeemCode(code, 'console-test')).rejects.toThrow(/refused the code: this enrollment code is unknown or was already used/);
    expect((await Credentials.open(stateDir)).list()).toHaveLength(1);
    expect(await readdir(path.join(stateDir, 'enroll'))).toEqual([]);

    // neither the secret nor any token reaches the log
    expect(logText).toContain('console enrolled');
    for (const s of [secret, got.viewerToken, got.operatorToken]) expect(logText).not.toContain(s);
  });

  it('two consoles enrolling at once both get their credential (the file is written one at a time)', async () => {
    const codes = await Promise.all([1, 2, 3].map(() => createEnrollment({ stateDir, url: srv.url, fingerprint }).then((e) => e.code)));
    const got = await Promise.all(codes.map((c, i) => redeemCode(c, `console-${i}`)));
    expect(new Set(got.map((g) => g.credentialId)).size).toBe(3);
    expect((await Credentials.open(stateDir)).list()).toHaveLength(3);
  });

  it('two redeems of one code at once: exactly one wins', async () => {
    const { code } = await createEnrollment({ stateDir, url: srv.url, fingerprint });
    const results = await Promise.allSettled([redeemCode(code, 'a'), redeemCode(code, 'b'), redeemCode(code, 'c')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/unknown or was already used/);
    expect((await Credentials.open(stateDir)).list()).toHaveLength(1);
  });

  it('an expired code is refused (and removed)', async () => {
    const { code } = await createEnrollment({ stateDir, url: srv.url, fingerprint, ttlMs: 10_000, now: Date.now() - 11_000 });
    await expect(redeemCode(code, 'x')).rejects.toThrow(/refused the code: this enrollment code has expired/);
    expect(await readdir(path.join(stateDir, 'enroll'))).toEqual([]);
    expect((await Credentials.open(stateDir)).list()).toHaveLength(0);
  });

  it('tampered codes are refused: another fingerprint, another secret, damaged text', async () => {
    const { code } = await createEnrollment({ stateDir, url: srv.url, fingerprint });
    const c = decodeCode(code);
    const otherFp = c.fingerprint.startsWith('AA') ? `BB${c.fingerprint.slice(2)}` : `AA${c.fingerprint.slice(2)}`;
    await expect(redeemCode(encodeCode({ url: c.url, fingerprint: otherFp, secret: c.secret }), 'x'))
      .rejects.toThrow(`certificate fingerprint ${fingerprint} does not match the pinned ${otherFp}`);
    const otherSecret = (c.secret[0] === 'A' ? 'B' : 'A') + c.secret.slice(1);
    await expect(redeemCode(encodeCode({ url: c.url, fingerprint: c.fingerprint, secret: otherSecret }), 'x'))
      .rejects.toThrow(/unknown or was already used/);
    await expect(redeemCode(code.slice(0, -5), 'x')).rejects.toThrow(/damaged/);
    await expect(redeemCode(code.replace(CODE_PREFIX, ''), 'x')).rejects.toThrow(/starts with 'director-enroll-'/);
    await expect(redeemCode(encodeCode({ url: c.url.replace('https:', 'http:'), fingerprint: c.fingerprint, secret: c.secret }), 'x')).rejects.toThrow(/must be https/);
    // the real code still works after all that (the wrong pin never sent the secret)
    await expect(redeemCode(code, 'x')).resolves.toMatchObject({ directorId: 'lvs1' });
  });

  it('failed redeems from one address are rate-limited', async () => {
    const { code } = await createEnrollment({ stateDir, url: srv.url, fingerprint });
    const c = decodeCode(code);
    for (let i = 0; i < 5; i++) {
      const s = `${'Z'.repeat(42)}${i}`;
      await expect(redeemCode(encodeCode({ url: c.url, fingerprint: c.fingerprint, secret: s }), 'x')).rejects.toThrow(/unknown/);
    }
    await expect(redeemCode(code, 'x')).rejects.toThrow(/too many failed enrollment attempts/);
  });

  it('a console gives its credential back: the tokens stop working', async () => {
    const { code } = await createEnrollment({ stateDir, url: srv.url, fingerprint });
    const got = await redeemCode(code, 'console-test');
    await revokeCredential({ name: 'lvs1', url: got.url, fingerprint, operatorToken: got.operatorToken });
    const c = await consoleFor(agentConfig({ fingerprint, viewerToken: got.viewerToken, operatorToken: got.operatorToken }));
    expect((await listServices(c)).status).toBe(401);
    expect((await Credentials.open(stateDir)).list()).toHaveLength(0);
    await expect(revokeCredential({ name: 'lvs1', url: got.url, fingerprint, operatorToken: got.operatorToken })).rejects.toThrow(/did not revoke/);
  });

  it('enrollment is not served over plain HTTP', async () => {
    const credentials = Credentials.memory();
    const plain = await startAgentServer({
      deps, auth: Auth.fromTokens(TOKENS, deps.log, { credentials }), listen: { host: '127.0.0.1', port: 0 }, allowOrigins: [],
      enroll: new Enrollment({ stateDir, credentials, log: deps.log, directorId: 'lvs1' }),
    });
    try {
      const r = await fetch(`${plain.url}/enroll/redeem`, { method: 'POST', body: '{"secret":"x"}' });
      expect(r.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe('the registry through an enrolled agent (ha.registry)', () => {
  it('is read over pinned TLS with the operator token; no HA, a wrong pin or no operator token say why', async () => {
    const code = encodeCode({ url: 'https://127.0.0.2:9580', fingerprint, secret: 'R'.repeat(43) });
    const listing = { entries: [{ directorId: 'lvs2', url: 'https://127.0.0.2:9580', fingerprint, code }], skipped: [{ node: 'junk', reason: 'no data' }] };
    await expect(askRegistry(agentConfig({ fingerprint }))).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringContaining('not configured') });
    deps.ha = { ...disabledHa('lvs1'), enabled: true, registry: async () => listing };
    expect(await askRegistry(agentConfig({ fingerprint }))).toEqual(listing);
    const other = fingerprint.replace(/^../, fingerprint.startsWith('00') ? '01' : '00');
    await expect(askRegistry(agentConfig({ fingerprint: other }))).rejects.toThrow(/does not match the pinned/);
    await expect(askRegistry(agentConfig({ fingerprint, operatorToken: undefined }))).rejects.toThrow(/no operator token/);
    // an answer that is not a registry listing is refused, not passed on
    deps.ha = { ...disabledHa('lvs1'), enabled: true, registry: async () => ({ entries: [{ directorId: '../x', url: 'u', fingerprint, code }], skipped: [] }) };
    await expect(askRegistry(agentConfig({ fingerprint }))).rejects.toThrow(/not understood/);
  });
});
