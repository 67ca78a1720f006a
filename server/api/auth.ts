/**
 * Tokens and their checking. Two roles, one token each, generated at first
 * start into 0600 files under the state directory (their paths are shown,
 * never their values; a file holding a token under 32 characters is refused). Tokens are
 * compared as SHA-256 digests with timingSafeEqual, so neither the length nor
 * the content of a guess leaks through timing. Wrong tokens are rate-limited
 * per remote address (failures only: a valid token always passes) and logged
 * (without the token).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { TooManyError } from '@/lib/errors';
import type { Identity, Role } from '@/lib/auth/identity';

const ROLES: readonly Role[] = ['viewer', 'operator'];

export interface AuthOptions {
  stateDir: string;
  log: Logger;
  /** Where freshly generated tokens are shown (once). */
  announce: (text: string) => void;
  /** wrong tokens allowed per remote address within `windowMs` before it is blocked */
  maxFailures?: number;
  windowMs?: number;
  /** how long a blocked address stays blocked */
  blockMs?: number;
  now?: () => number;
  /** tokens issued to consoles through enrollment (credentials.ts), checked after the two role tokens */
  credentials?: { match(digest: Buffer): Identity | null };
}

interface Failures {
  times: number[];
  blockedUntil: number;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export function tokenFile(stateDir: string, role: Role): string {
  return path.join(stateDir, 'tokens', `${role}.token`);
}

/** Shorter tokens in a token file are refused: 32 characters is the floor the agent's own (256-bit) tokens clear. */
export const MIN_TOKEN_LENGTH = 32;

/** Why a stored token is unusable, or null. Printable ASCII without spaces: what "Authorization: Bearer" can carry. */
export function tokenProblem(token: string): string | null {
  if (token.length < MIN_TOKEN_LENGTH) return `the token is ${token.length} characters; agent tokens are at least ${MIN_TOKEN_LENGTH}`;
  if (!/^[\x21-\x7e]+$/.test(token)) return 'the token holds spaces, control or non-ASCII characters';
  return null;
}

function checked(file: string, token: string): string {
  const why = tokenProblem(token);
  if (why) throw new Error(`${file}: ${why} (remove the file and restart the agent to have a new one generated)`);
  return token;
}

async function loadOrCreate(stateDir: string, role: Role): Promise<{ token: string; created: boolean }> {
  const file = tokenFile(stateDir, role);
  try {
    return { token: checked(file, (await readFile(file, 'utf8')).trim()), created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const token = `${role}_${randomBytes(32).toString('base64url')}`;
  // 'wx': two agents starting together must not overwrite each other's token
  await writeFile(file, token + '\n', { mode: 0o600, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  const stored = checked(file, (await readFile(file, 'utf8')).trim());
  return { token: stored, created: stored === token };
}

export class RateLimited extends TooManyError {
  override readonly name = 'RateLimited';
  constructor(readonly retryAfterMs: number) {
    super('too many failed attempts from this address; try again later');
  }
}

export class Auth {
  private readonly digests: { role: Role; digest: Buffer }[];
  private failures = new Map<string, Failures>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly blockMs: number;
  private readonly now: () => number;
  private readonly credentials: AuthOptions['credentials'];

  private constructor(tokens: { role: Role; token: string }[], private readonly log: Logger, opts: AuthOptions) {
    this.digests = tokens.map((t) => ({ role: t.role, digest: digest(t.token) }));
    this.maxFailures = opts.maxFailures ?? 10;
    this.windowMs = opts.windowMs ?? 60_000;
    this.blockMs = opts.blockMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.credentials = opts.credentials;
  }

  static async open(opts: AuthOptions): Promise<Auth> {
    await mkdir(path.join(opts.stateDir, 'tokens'), { recursive: true, mode: 0o700 });
    const tokens: { role: Role; token: string }[] = [];
    const fresh: string[] = [];
    for (const role of ROLES) {
      const { token, created } = await loadOrCreate(opts.stateDir, role);
      tokens.push({ role, token });
      if (created) fresh.push(`  ${role.padEnd(8)} ${tokenFile(opts.stateDir, role)}`);
    }
    // where, never what: a token in a terminal or a log is a token anyone reading it holds
    if (fresh.length) {
      opts.announce(
        `director agent: generated access tokens (mode 0600; give them to the console, e.g. in DIRECTOR_AGENTS):\n${fresh.join('\n')}\n`,
      );
    }
    return new Auth(tokens, opts.log, opts);
  }

  /** For tests: an Auth over given tokens, without files. */
  static fromTokens(tokens: Record<Role, string>, log: Logger, opts: Partial<AuthOptions> = {}): Auth {
    return new Auth(ROLES.map((role) => ({ role, token: tokens[role] })), log, { stateDir: '', log, announce: () => {}, ...opts });
  }

  /** Throws RateLimited while `remote` is blocked. */
  assertNotBlocked(remote: string): void {
    const f = this.failures.get(remote);
    const now = this.now();
    if (f && f.blockedUntil > now) throw new RateLimited(f.blockedUntil - now);
  }

  /**
   * The identity a token grants, or null (and a recorded failure) for a wrong one;
   * throws RateLimited for a wrong one while `remote` is blocked. Every role's digest is compared so the time taken does not say which role was close.
   */
  verify(token: string, remote: string): Identity | null {
    const d = digest(token);
    let match: Role | null = null;
    for (const r of this.digests) {
      if (timingSafeEqual(d, r.digest)) match = r.role;
    }
    // the limiter only slows guessing: a valid token is never refused, or ten wrong tries from
    // a shared address (the console's loopback) would lock every user out
    if (match) return { role: match, tokenName: match };
    const enrolled = this.credentials?.match(d);
    if (enrolled) return enrolled;
    this.assertNotBlocked(remote);
    this.recordFailure(remote);
    return null;
  }

  private recordFailure(remote: string): void {
    const now = this.now();
    const f = this.failures.get(remote) ?? { times: [], blockedUntil: 0 };
    f.times = f.times.filter((t) => now - t < this.windowMs);
    f.times.push(now);
    if (f.times.length >= this.maxFailures) {
      f.blockedUntil = now + this.blockMs;
      f.times = [];
      this.log.warn({ remote, blockMs: this.blockMs }, 'too many wrong tokens: address blocked');
    } else {
      this.log.warn({ remote, failures: f.times.length }, 'wrong token');
    }
    this.failures.set(remote, f);
    // keep the table bounded when many addresses probe
    if (this.failures.size > 10_000) {
      for (const [k, v] of this.failures) {
        if (v.blockedUntil <= now && v.times.every((t) => now - t >= this.windowMs)) this.failures.delete(k);
      }
    }
  }
}

/** "Bearer <token>" -> token. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** scheme://host[:port] in the form browsers send in Origin, or null when it is not a URL. */
export function normalizeOrigin(text: string): string | null {
  try {
    const u = new URL(text);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.origin;
  } catch {
    return null;
  }
}

/**
 * Browsers always send Origin on a WebSocket upgrade; a page from another
 * origin must not ride on a user's session to the agent. Clients that are not
 * browsers send none and are judged by their token alone.
 */
export function originAllowed(origin: string | undefined, allow: readonly string[]): boolean {
  if (origin === undefined) return true;
  const o = normalizeOrigin(origin);
  return o !== null && allow.includes(o);
}
