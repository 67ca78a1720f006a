/**
 * Enrollment: `director agent enroll` writes a one-time secret's digest and
 * expiry under <state>/enroll/ and prints a code (the agent's URL, its
 * certificate's fingerprint and the secret); a console redeems the code at
 * POST /enroll/redeem over TLS pinned to that fingerprint and receives its own
 * token pair (credentials.ts). The secret itself is never stored nor logged,
 * and a redeemed or expired secret is deleted: the code works once.
 *
 * The pending file is named by the secret's SHA-256, so redeeming is one
 * lookup; unlinking it is the claim, so two concurrent redeems of one code
 * cannot both win.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chown, mkdir, readFile, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { decodeCode, encodeCode, SECRET_RE } from '@/lib/enroll/code';
import { bearerToken } from './auth';
import type { Credentials } from './credentials';

export const ENROLL_PREFIX = '/enroll/';
export const DEFAULT_TTL_MS = 10 * 60_000;
export const MAX_TTL_MS = 24 * 3600_000;

const secretDigest = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');
export const enrollDir = (stateDir: string) => path.join(stateDir, 'enroll');

interface Pending {
  expiresAt: number;
  createdAt: number;
}

/**
 * Makes a code: writes the pending entry (0600; chowned to the state folder's owner when run as root, so the
 * agent's own user can read and delete it) and returns the code to print.
 */
export async function createEnrollment(opts: {
  stateDir: string;
  url: string;
  fingerprint: string;
  ttlMs?: number;
  now?: number;
}): Promise<{ code: string; expiresAt: Date }> {
  const ttl = opts.ttlMs ?? DEFAULT_TTL_MS;
  if (!Number.isInteger(ttl) || ttl < 10_000 || ttl > MAX_TTL_MS) throw new Error('--ttl must be from 10s to 24h');
  const secret = randomBytes(32).toString('base64url');
  const code = encodeCode({ url: opts.url.replace(/\/+$/, ''), fingerprint: opts.fingerprint, secret });
  decodeCode(code); // the same checks a console will make, now, where the operator can fix them
  const now = opts.now ?? Date.now();
  const dir = enrollDir(opts.stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${secretDigest(secret)}.json`);
  const pending: Pending = { createdAt: now, expiresAt: now + ttl };
  await writeFile(file, JSON.stringify(pending) + '\n', { mode: 0o600, flag: 'wx' });
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    const owner = await stat(opts.stateDir);
    if (owner.uid !== 0) {
      await chown(dir, owner.uid, owner.gid);
      await chown(file, owner.uid, owner.gid);
    }
  }
  // old codes nobody redeemed need not pile up
  await sweepExpired(opts.stateDir, now);
  return { code, expiresAt: new Date(now + ttl) };
}

async function sweepExpired(stateDir: string, now: number): Promise<void> {
  const dir = enrollDir(stateDir);
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{64}\.json$/.test(f)) continue;
    try {
      const p = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as Pending;
      if (!(p.expiresAt > now)) await unlink(path.join(dir, f));
    } catch {
      /* a file being claimed right now, or not ours */
    }
  }
}

/** Whether a code's secret is still waiting to be redeemed (not claimed, not expired). */
export async function enrollmentPending(stateDir: string, secret: string, now = Date.now()): Promise<boolean> {
  if (!SECRET_RE.test(secret)) return false;
  try {
    const p = JSON.parse(await readFile(path.join(enrollDir(stateDir), `${secretDigest(secret)}.json`), 'utf8')) as Pending;
    return p.expiresAt > now;
  } catch {
    return false;
  }
}

export class EnrollRefused extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Claims a secret: ok once, then never again; an expired one is refused and removed. */
export async function claimSecret(stateDir: string, secret: string, now = Date.now()): Promise<void> {
  if (!SECRET_RE.test(secret)) throw new EnrollRefused(400, 'the secret is malformed');
  const file = path.join(enrollDir(stateDir), `${secretDigest(secret)}.json`);
  let p: Pending;
  try {
    p = JSON.parse(await readFile(file, 'utf8')) as Pending;
  } catch {
    throw new EnrollRefused(403, 'this enrollment code is unknown or was already used; make a new one with director agent enroll');
  }
  try {
    await unlink(file);
  } catch {
    throw new EnrollRefused(403, 'this enrollment code is unknown or was already used; make a new one with director agent enroll');
  }
  if (!(p.expiresAt > now)) throw new EnrollRefused(403, 'this enrollment code has expired; make a new one with director agent enroll');
}

const redeemBody = z.strictObject({
  secret: z.string().max(100),
  /** how the console calls itself, kept with the credential so an operator can tell consoles apart */
  console: z.string().max(100).optional(),
});

export interface EnrollmentOptions {
  stateDir: string;
  credentials: Credentials;
  log: Logger;
  directorId: string;
  /** failed redeems allowed per remote address per minute */
  maxFailures?: number;
  now?: () => number;
}

/** The agent's /enroll/* endpoints. */
export class Enrollment {
  private failures = new Map<string, number[]>();
  constructor(private readonly o: EnrollmentOptions) {}

  private blocked(remote: string, now: number): boolean {
    const times = (this.failures.get(remote) ?? []).filter((t) => now - t < 60_000);
    this.failures.set(remote, times);
    if (this.failures.size > 10_000) this.failures.clear();
    return times.length >= (this.o.maxFailures ?? 5);
  }

  private fail(remote: string, now: number): void {
    this.failures.get(remote)?.push(now) ?? this.failures.set(remote, [now]);
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, remote: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
    };
    if (req.method !== 'POST') return send(405, { error: 'POST only' });
    const now = (this.o.now ?? Date.now)();

    if (url.pathname === `${ENROLL_PREFIX}redeem`) {
      if (this.blocked(remote, now)) return send(429, { error: 'too many failed enrollment attempts from this address; wait a minute' });
      let body: z.infer<typeof redeemBody>;
      try {
        body = redeemBody.parse(JSON.parse(await readLimited(req, 4096)));
      } catch {
        this.fail(remote, now);
        return send(400, { error: 'send JSON { "secret", "console"? }' });
      }
      try {
        await claimSecret(this.o.stateDir, body.secret, now);
      } catch (e) {
        if (!(e instanceof EnrollRefused)) throw e;
        this.fail(remote, now);
        this.o.log.warn({ remote, reason: e.message }, 'enrollment refused');
        return send(e.status, { error: e.message });
      }
      const label = `${body.console ?? 'console'} from ${remote}`;
      const cred = await this.o.credentials.issue(label, new Date(now));
      this.o.log.info({ remote, credential: cred.id, label }, 'console enrolled');
      return send(200, { credentialId: cred.id, viewerToken: cred.viewerToken, operatorToken: cred.operatorToken, directorId: this.o.directorId });
    }

    if (url.pathname === `${ENROLL_PREFIX}revoke`) {
      // a console giving up its own credential, authenticated by that credential
      const token = bearerToken(req.headers.authorization);
      if (this.blocked(remote, now)) return send(429, { error: 'too many failed attempts from this address; wait a minute' });
      const id = token ? await this.o.credentials.revokeByToken(token) : null;
      if (!id) {
        this.fail(remote, now);
        return send(401, { error: 'not an enrolled console credential' });
      }
      this.o.log.info({ remote, credential: id }, 'console credential revoked');
      return send(200, { revoked: id });
    }
    return send(404, { error: 'not found' });
  }
}

async function readLimited(req: http.IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
