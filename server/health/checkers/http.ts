/**
 * HTTP_GET / SSL_GET: every url must answer an accepted status and, when
 * asked, a body with the right MD5 digest or matching a regex. The connect
 * timeout bounds the connection and, as in keepalived, the wait for the answer.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { formatHostPort } from '@/lib/net/ip';
import type { RE2JS } from 're2js';
import { compileBodyRegex, statusMatcher, type HttpUrl } from '@/lib/schemas/health';
import { describeSocketError, seconds, type CheckResult, type CheckTarget } from './types';

/**
 * More than any health page: reading stops here and the digest or regex sees
 * this much (a real server cannot make the agent buffer or scan more).
 */
export const MAX_BODY = 1024 * 1024;

/** Compiled body regexes, by pattern: a check reruns every few seconds. */
const compiled = new Map<string, RE2JS>();
function bodyRegex(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (!re) {
    re = compileBodyRegex(pattern);
    if (compiled.size >= 256) compiled.delete(compiled.keys().next().value!);
    compiled.set(pattern, re);
  }
  return re;
}

export interface HttpCheckOptions {
  urls: readonly HttpUrl[];
  tls?: boolean;
  virtualhost?: string;
  connectTimeoutMs: number;
  signal?: AbortSignal;
}

interface UrlResult {
  ok: boolean;
  message: string;
}

function getOnce(target: CheckTarget, url: HttpUrl, o: HttpCheckOptions, deadline: number): Promise<UrlResult> {
  return new Promise((resolve) => {
    const mod = o.tls ? https : http;
    const host = url.virtualhost ?? o.virtualhost ?? formatHostPort(target.family, target.address, target.port);
    let done = false;
    let connected = false;
    const finish = (r: UrlResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(r);
    };
    const req = mod.request({
      host: target.address,
      family: target.family === 'inet6' ? 6 : 4,
      port: target.port,
      path: url.path,
      method: 'GET',
      headers: { host, 'user-agent': 'director-healthcheck', connection: 'close' },
      agent: false,
      // SSL_GET checks a server by address: its certificate names the site, not the address
      ...(o.tls ? { rejectUnauthorized: false, servername: url.virtualhost ?? o.virtualhost } : {}),
    });
    const remaining = Math.max(1, deadline - performance.now());
    const timer = setTimeout(() => finish({
      ok: false,
      message: connected ? `no answer within ${seconds(o.connectTimeoutMs)}` : `connect timeout after ${seconds(o.connectTimeoutMs)}`,
    }), remaining);
    const onAbort = () => finish({ ok: false, message: 'check cancelled' });
    o.signal?.addEventListener('abort', onAbort, { once: true });
    req.once('socket', (s) => s.once(o.tls ? 'secureConnect' : 'connect', () => { connected = true; }));
    req.once('error', (e: NodeJS.ErrnoException) => finish({ ok: false, message: describeSocketError(e) }));
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      if (!statusMatcher(url.statusCodes)(status)) {
        res.resume();
        // the status only: the body is the real server's (maybe a secret on a local service), never the caller's
        finish({ ok: false, message: `HTTP ${status}${url.path !== '/' ? ` on ${url.path}` : ''}, expected ${url.statusCodes.join(' ')}` });
        return;
      }
      if (!url.digest && !url.regex) {
        res.resume();
        finish({ ok: true, message: `HTTP ${status}` });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const judge = () => {
        const body = Buffer.concat(chunks).subarray(0, MAX_BODY);
        // results say whether the body passed, never what it holds (nor its digest: an oracle for short secrets)
        if (url.digest && createHash('md5').update(body).digest('hex') !== url.digest) {
          finish({ ok: false, message: `HTTP ${status}, body digest did not match` });
          return;
        }
        if (url.regex) {
          let ok: boolean;
          try {
            ok = bodyRegex(url.regex).test(body.toString('utf8'));
          } catch {
            finish({ ok: false, message: `HTTP ${status}, the regex cannot be used` });
            return;
          }
          if (!ok) {
            finish({ ok: false, message: `HTTP ${status}, body did not match the regex` });
            return;
          }
        }
        finish({ ok: true, message: `HTTP ${status}` });
      };
      res.on('data', (c: Buffer) => {
        if (done) return;
        chunks.push(c);
        size += c.length;
        // enough read: judge the first MAX_BODY bytes and drop the connection (finish destroys it)
        if (size >= MAX_BODY) judge();
      });
      res.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, message: describeSocketError(e) }));
      res.once('end', judge);
    });
    req.end();
  });
}

export async function httpCheck(target: CheckTarget, o: HttpCheckOptions): Promise<CheckResult> {
  const started = performance.now();
  if (o.signal?.aborted) return { ok: false, message: 'check cancelled', durationMs: 0 };
  let last: UrlResult = { ok: false, message: 'no url to check' };
  for (const url of o.urls) {
    // each url gets the full timeout, as each is its own request in keepalived
    last = await getOnce(target, url, o, performance.now() + o.connectTimeoutMs);
    if (!last.ok) break;
  }
  return { ok: last.ok, message: last.message, durationMs: performance.now() - started };
}
