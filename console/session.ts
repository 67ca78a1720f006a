/**
 * Signed, stateless session cookies (HMAC-SHA256), with a small in-memory
 * revocation list so signing out ends the session on this server at once.
 */
import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import type { Role, UserConfig } from './config';

export const COOKIE_NAME = 'director_session';
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface Session {
  sid: string;
  user: string;
  role: Role;
  /** ms since epoch */
  exp: number;
}

function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

export function encodeSession(secret: string, s: Session): string {
  const payload = Buffer.from(JSON.stringify(s)).toString('base64url');
  return `${payload}.${sign(secret, payload)}`;
}

export function decodeSession(secret: string, value: string | undefined, now = Date.now()): Session | null {
  if (!value) return null;
  const dot = value.indexOf('.');
  if (dot <= 0) return null;
  const payload = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1), 'base64url');
  const expected = Buffer.from(sign(secret, payload), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let s: unknown;
  try {
    s = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!isSession(s) || s.exp <= now) return null;
  return s;
}

function isSession(v: unknown): v is Session {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.sid === 'string' && typeof s.user === 'string' && (s.role === 'viewer' || s.role === 'operator') && typeof s.exp === 'number';
}

export function newSession(user: string, role: Role, now = Date.now()): Session {
  return { sid: randomBytes(12).toString('base64url'), user, role, exp: now + SESSION_TTL_MS };
}

export function sessionCookie(value: string, secure: boolean, maxAgeMs = SESSION_TTL_MS): string {
  return [
    `${COOKIE_NAME}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

export function clearedCookie(secure: boolean): string {
  return sessionCookie('', secure, 0);
}

export function readCookie(header: string | undefined, name = COOKIE_NAME): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Passwords in config may be plain or "scrypt$<salt b64url>$<hash b64url>" (see hashPassword). */
export function hashPassword(password: string, salt = randomBytes(16)): string {
  return `scrypt$${salt.toString('base64url')}$${scryptSync(password, salt, 32).toString('base64url')}`;
}

export function checkPassword(stored: string, given: string): boolean {
  if (stored.startsWith('scrypt$')) {
    const [, salt, hash] = stored.split('$');
    if (!salt || !hash) return false;
    const want = Buffer.from(hash, 'base64url');
    const got = scryptSync(given, Buffer.from(salt, 'base64url'), want.length || 32);
    return want.length > 0 && timingSafeEqual(want, got);
  }
  // Compare digests so the timing does not depend on where the strings differ.
  const a = createHmac('sha256', 'pw').update(stored).digest();
  const b = createHmac('sha256', 'pw').update(given).digest();
  return timingSafeEqual(a, b);
}

export function authenticate(users: readonly UserConfig[], username: unknown, password: unknown): UserConfig | null {
  if (typeof username !== 'string' || typeof password !== 'string') return null;
  const u = users.find((x) => x.username === username);
  // Still spend the hashing time for unknown users.
  const ok = checkPassword(u?.password ?? 'scrypt$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', password);
  return u && ok ? u : null;
}

/** Sessions signed out before they expire; entries drop once past their expiry. */
export class Revocations {
  private readonly map = new Map<string, number>();
  revoke(s: Session): void {
    this.map.set(s.sid, s.exp);
  }
  isRevoked(s: Session, now = Date.now()): boolean {
    for (const [sid, exp] of this.map) if (exp <= now) this.map.delete(sid);
    return this.map.has(s.sid);
  }
}

/** Failed sign-ins per client address: at most `max` in `windowMs`. */
export class LoginLimiter {
  private readonly fails = new Map<string, number[]>();
  constructor(private readonly max = 10, private readonly windowMs = 5 * 60_000) {}
  blocked(addr: string, now = Date.now()): boolean {
    const list = (this.fails.get(addr) ?? []).filter((t) => t > now - this.windowMs);
    this.fails.set(addr, list);
    return list.length >= this.max;
  }
  fail(addr: string, now = Date.now()): void {
    const list = this.fails.get(addr) ?? [];
    list.push(now);
    this.fails.set(addr, list);
  }
  succeed(addr: string): void {
    this.fails.delete(addr);
  }
}
