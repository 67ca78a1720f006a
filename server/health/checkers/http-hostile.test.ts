/**
 * A real server's answer must not freeze the agent (issue 23 #5): an
 * operator's regex runs on the body with a linear-time engine, over a bounded
 * prefix, and the check's result never carries the body. Real listeners on
 * 127.0.0.1:0; the event loop's delay is measured while the check runs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSchema } from '@/lib/schemas/health';
import { httpCheck } from './http';

let srv: http.Server;
let port = 0;
const SECRET = 'token=s3cr3t-operator-token';
let bigServed = 0;

beforeAll(async () => {
  srv = http.createServer((req, res) => {
    // the classic catastrophic input for ^(a+)+$: a run of a's and one character that cannot match
    if (req.url === '/hostile') return res.end(`${'a'.repeat(34)}!`);
    if (req.url === '/secret') { res.statusCode = 500; return res.end(SECRET); }
    if (req.url === '/ok-secret') return res.end(SECRET);
    if (req.url === '/endless') {
      // far more than any health page: the checker must stop reading
      const chunk = Buffer.alloc(64 * 1024, 'b');
      const push = () => {
        while (!res.destroyed && bigServed < 64 * 1024 * 1024) {
          bigServed += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', push);
        }
        res.end();
      };
      return push();
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  port = (srv.address() as AddressInfo).port;
});

afterAll(async () => {
  srv.closeAllConnections();
  await new Promise<void>((r) => srv.close(() => r()));
});

const target = () => ({ family: 'inet' as const, address: '127.0.0.1', port });

describe('HTTP check against a hostile real server', () => {
  it('matches ^(a+)+$ against a 35-byte hostile body fast, without blocking the event loop', async () => {
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const t0 = performance.now();
    const r = await httpCheck(target(), { urls: [{ path: '/hostile', statusCodes: ['200'], regex: '^(a+)+$' }], connectTimeoutMs: 5000 });
    const took = performance.now() - t0;
    h.disable();
    expect(r).toMatchObject({ ok: false, message: 'HTTP 200, body did not match the regex' });
    expect(took).toBeLessThan(1000);
    expect(h.max / 1e6).toBeLessThan(100);
  });

  it('stops reading a body after the first MiB', async () => {
    bigServed = 0;
    const r = await httpCheck(target(), { urls: [{ path: '/endless', statusCodes: ['200'], regex: 'x' }], connectTimeoutMs: 5000 });
    expect(r).toMatchObject({ ok: false, message: 'HTTP 200, body did not match the regex' });
    // the server may have queued a few socket buffers more, never the 64 MiB it offered
    expect(bigServed).toBeLessThan(8 * 1024 * 1024);
  });

  it('never returns body bytes: not on a bad status, a digest or a regex', async () => {
    const bad = await httpCheck(target(), { urls: [{ path: '/secret', statusCodes: ['200'] }], connectTimeoutMs: 5000 });
    expect(bad.message).toBe('HTTP 500 on /secret, expected 200');
    const digest = await httpCheck(target(), { urls: [{ path: '/ok-secret', statusCodes: ['200'], digest: '0'.repeat(32) }], connectTimeoutMs: 5000 });
    expect(digest.message).toBe('HTTP 200, body digest did not match');
    const re = await httpCheck(target(), { urls: [{ path: '/ok-secret', statusCodes: ['200'], regex: '^nothing' }], connectTimeoutMs: 5000 });
    expect(re.message).toBe('HTTP 200, body did not match the regex');
    for (const m of [bad.message, digest.message, re.message]) expect(m).not.toMatch(/s3cr3t|[0-9a-f]{32}/);
  });
});

describe('regex validation', () => {
  const withRegex = (regex: string) => checkSchema.safeParse({ type: 'http', urls: [{ path: '/', regex }] });
  it('accepts RE2 syntax', () => {
    expect(withRegex('healthy: (yes|ok)').success).toBe(true);
    expect(withRegex('^(a+)+$').success).toBe(true);
  });
  it('refuses what the linear-time engine lacks (backreferences, lookaround), naming the field', () => {
    for (const re of ['(a)\\1', 'x(?=y)', '(?<!a)b']) {
      const r = withRegex(re);
      expect(r.success, re).toBe(false);
      const issue = r.error!.issues[0]!;
      expect(issue.path.join('.')).toBe('urls.0.regex');
      expect(issue.message).toMatch(/^regex: .*backreferences/);
    }
  });
});
