/**
 * Checkers against real listeners on 127.0.0.1:0: an HTTP server that answers
 * 200, 500, a slow answer and a known body; a bare TCP listener; a closed port.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TUNNEL, type DestinationSpec } from '@/lib/ipvs/model';
import { checkSchema, resolveTiming } from '@/lib/schemas/health';
import { httpCheck } from './http';
import { makeRunCheck } from './index';
import { tcpCheck } from './tcp';

let web: http.Server;
let webPort = 0;
let tcpOnly: net.Server;
let tcpPort = 0;
let closedPort = 0;
const hosts: string[] = [];
const tcpSockets = new Set<net.Socket>();
const BODY = 'healthy: yes\n';

const listen = (s: net.Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
const close = (s: net.Server) => new Promise<void>((r) => s.close(() => r()));

beforeAll(async () => {
  web = http.createServer((req, res) => {
    hosts.push(req.headers.host ?? '');
    if (req.url === '/ok') return res.end(BODY);
    if (req.url === '/fail') { res.statusCode = 500; return res.end('broken'); }
    if (req.url === '/slow') { setTimeout(() => res.end('late'), 1500); return; }
    if (req.url === '/maint') { res.statusCode = 503; return res.end(); }
    res.statusCode = 404;
    res.end();
  });
  webPort = await listen(web);
  // accepts connections and never says a word: TCP is up, HTTP is not
  tcpOnly = net.createServer((s) => {
    tcpSockets.add(s);
    s.on('error', () => {});
    s.on('close', () => tcpSockets.delete(s));
  });
  tcpPort = await listen(tcpOnly);
  const tmp = net.createServer();
  closedPort = await listen(tmp);
  await close(tmp);
});

afterAll(async () => {
  web.closeAllConnections();
  await close(web);
  for (const s of tcpSockets) s.destroy();
  await close(tcpOnly);
});

const target = (port: number) => ({ family: 'inet' as const, address: '127.0.0.1', port });
const url = (path: string, extra: Record<string, unknown> = {}) => ({ path, statusCodes: ['200'], ...extra });

describe('httpCheck', () => {
  it('passes on 200 and reports the status and a duration', async () => {
    const r = await httpCheck(target(webPort), { urls: [url('/ok')], connectTimeoutMs: 2000 });
    expect(r).toMatchObject({ ok: true, message: 'HTTP 200' });
    expect(r.durationMs).toBeGreaterThan(0);
    expect(r.durationMs).toBeLessThan(2000);
  });

  it('fails on 500 with the status in the message', async () => {
    const r = await httpCheck(target(webPort), { urls: [url('/fail')], connectTimeoutMs: 2000 });
    expect(r).toMatchObject({ ok: false, message: 'HTTP 500 on /fail, expected 200' });
  });

  it('accepts a listed status or range', async () => {
    const r = await httpCheck(target(webPort), { urls: [url('/maint', { statusCodes: ['200-299', '503'] })], connectTimeoutMs: 2000 });
    expect(r).toMatchObject({ ok: true, message: 'HTTP 503' });
  });

  it('times out a slow answer with the timeout in the message', async () => {
    const r = await httpCheck(target(webPort), { urls: [url('/slow')], connectTimeoutMs: 300 });
    expect(r.ok).toBe(false);
    expect(r.message).toBe('no answer within 0.3 s');
    expect(r.durationMs).toBeGreaterThanOrEqual(290);
    expect(r.durationMs).toBeLessThan(1400);
  });

  it('says connection refused on a closed port', async () => {
    const r = await httpCheck(target(closedPort), { urls: [url('/ok')], connectTimeoutMs: 2000 });
    expect(r).toMatchObject({ ok: false, message: 'connection refused' });
  });

  it('checks the body digest (MD5) and regex', async () => {
    const md5 = createHash('md5').update(BODY).digest('hex');
    expect((await httpCheck(target(webPort), { urls: [url('/ok', { digest: md5 })], connectTimeoutMs: 2000 })).ok).toBe(true);
    const bad = await httpCheck(target(webPort), { urls: [url('/ok', { digest: '0'.repeat(32) })], connectTimeoutMs: 2000 });
    expect(bad.ok).toBe(false);
    expect(bad.message).toBe('HTTP 200, body digest did not match');
    expect((await httpCheck(target(webPort), { urls: [url('/ok', { regex: 'healthy: (yes|ok)' })], connectTimeoutMs: 2000 })).ok).toBe(true);
    const noMatch = await httpCheck(target(webPort), { urls: [url('/ok', { regex: '^down' })], connectTimeoutMs: 2000 });
    expect(noMatch).toMatchObject({ ok: false, message: 'HTTP 200, body did not match the regex' });
  });

  it('sends the virtual host, else the real server address, as Host', async () => {
    hosts.length = 0;
    await httpCheck(target(webPort), { urls: [url('/ok')], virtualhost: 'www.example.test', connectTimeoutMs: 2000 });
    await httpCheck(target(webPort), { urls: [url('/ok', { virtualhost: 'api.example.test' })], virtualhost: 'www.example.test', connectTimeoutMs: 2000 });
    await httpCheck(target(webPort), { urls: [url('/ok')], connectTimeoutMs: 2000 });
    expect(hosts).toEqual(['www.example.test', 'api.example.test', `127.0.0.1:${webPort}`]);
  });

  it('needs every url to pass', async () => {
    const r = await httpCheck(target(webPort), { urls: [url('/ok'), url('/fail')], connectTimeoutMs: 2000 });
    expect(r).toMatchObject({ ok: false, message: 'HTTP 500 on /fail, expected 200' });
  });

  it('fails against a server that accepts TCP but never answers HTTP', async () => {
    const r = await httpCheck(target(tcpPort), { urls: [url('/')], connectTimeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, message: 'no answer within 0.3 s' });
  });
});

describe('tcpCheck', () => {
  it('passes when a listener accepts', async () => {
    expect(await tcpCheck(target(tcpPort), { connectTimeoutMs: 1000 })).toMatchObject({ ok: true, message: 'TCP connect ok' });
  });
  it('passes against the HTTP server returning 500 (only HTTP GET can tell)', async () => {
    expect((await tcpCheck(target(webPort), { connectTimeoutMs: 1000 })).ok).toBe(true);
  });
  it('says connection refused on a closed port', async () => {
    expect(await tcpCheck(target(closedPort), { connectTimeoutMs: 1000 })).toMatchObject({ ok: false, message: 'connection refused' });
  });
  it('stops when cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await tcpCheck(target(tcpPort), { connectTimeoutMs: 1000, signal: ac.signal });
    expect(r.ok).toBe(false);
  });
});

describe('runCheck', () => {
  const dest = (port: number): DestinationSpec => ({
    family: 'inet', address: '127.0.0.1', port, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL },
  });
  it('uses the connect port override and the resolved timeout', async () => {
    const check = checkSchema.parse({ type: 'http', urls: [{ path: '/ok' }], connectPort: webPort, timing: { connectTimeout: 1 } });
    const r = await makeRunCheck(null)(dest(closedPort), check, resolveTiming({}, check));
    expect(r).toMatchObject({ ok: true, message: 'HTTP 200' });
  });
});
