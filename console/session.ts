/**
 * Sessions held on the console server: the cookie is only a random id, so signing
 * out, removing a user or changing their role ends their sessions at once, and
 * whoever listens (the WebSocket proxy) is told so it can close their sockets.
 */
import { randomBytes } from 'node:crypto';
import type { Role } from './config';

export const COOKIE_NAME = 'director_session';
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Far more than any console has users signed in; a flood of sign-ins evicts the oldest. */
const MAX_SESSIONS = 10_000;

export interface Session {
  sid: string;
  user: string;
  role: Role;
  /** ms since epoch */
  exp: number;
}

export type EndReason = 'signed out' | 'user removed' | 'role changed' | 'password changed' | 'expired';

export class Sessions {
  private readonly byId = new Map<string, Session>();
  private readonly listeners: Array<(s: Session, why: EndReason) => void> = [];

  constructor(private readonly ttlMs = SESSION_TTL_MS, private readonly max = MAX_SESSIONS) {}

  create(user: string, role: Role, now = Date.now()): Session {
    this.prune(now);
    while (this.byId.size >= this.max) this.end(this.byId.keys().next().value!, 'expired');
    const s: Session = { sid: randomBytes(32).toString('base64url'), user, role, exp: now + this.ttlMs };
    this.byId.set(s.sid, s);
    return s;
  }

  get(sid: string | undefined, now = Date.now()): Session | null {
    if (!sid || sid.length > 100) return null;
    const s = this.byId.get(sid);
    if (!s) return null;
    if (s.exp <= now) {
      this.end(sid, 'expired');
      return null;
    }
    return s;
  }

  end(sid: string, why: EndReason): void {
    const s = this.byId.get(sid);
    if (!s) return;
    this.byId.delete(sid);
    for (const l of this.listeners) l(s, why);
  }

  /** Ends the sessions whose user is gone or holds another role now; returns them. */
  reconcile(roleOf: (user: string) => Role | undefined): Session[] {
    const ended: Session[] = [];
    for (const s of [...this.byId.values()]) {
      const role = roleOf(s.user);
      if (role === s.role) continue;
      this.end(s.sid, role === undefined ? 'user removed' : 'role changed');
      ended.push(s);
    }
    return ended;
  }

  prune(now = Date.now()): void {
    for (const s of [...this.byId.values()]) if (s.exp <= now) this.end(s.sid, 'expired');
  }

  onEnd(l: (s: Session, why: EndReason) => void): void {
    this.listeners.push(l);
  }

  get size(): number {
    return this.byId.size;
  }
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

/**
 * Failed sign-ins per (user name, client address): at most `max` in `windowMs`, so
 * someone guessing from one address cannot lock the user out from another. A
 * looser per-address cap stops spraying many names from one address. The map is
 * bounded: expired entries are pruned, and when full the oldest key goes.
 */
export class LoginLimiter {
  private readonly fails = new Map<string, number[]>();
  constructor(
    private readonly max = 10,
    private readonly windowMs = 5 * 60_000,
    private readonly maxPerAddress = 50,
    private readonly maxKeys = 10_000,
  ) {}

  private static key(user: string, addr: string): string {
    return `${addr}\u0000${user.slice(0, 256)}`;
  }

  private recent(key: string, now: number): number[] {
    const list = (this.fails.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length) this.fails.set(key, list);
    else this.fails.delete(key);
    return list;
  }

  /** Why this sign-in is refused without checking the password, or null. */
  blocked(user: string, addr: string, now = Date.now()): string | null {
    if (this.recent(LoginLimiter.key(user, addr), now).length >= this.max) return 'Too many failed sign-ins for this user from this address; wait five minutes and try again.';
    if (this.recent(`${addr}\u0000*`, now).length >= this.maxPerAddress) return 'Too many failed sign-ins from this address; wait five minutes and try again.';
    return null;
  }

  fail(user: string, addr: string, now = Date.now()): void {
    for (const key of [LoginLimiter.key(user, addr), `${addr}\u0000*`]) {
      const list = this.recent(key, now);
      list.push(now);
      this.fails.delete(key); // re-insert: Map order is then oldest-touched first
      this.fails.set(key, list.slice(-Math.max(this.max, this.maxPerAddress)));
    }
    this.prune(now);
  }

  succeed(user: string, addr: string): void {
    this.fails.delete(LoginLimiter.key(user, addr));
  }

  prune(now = Date.now()): void {
    if (this.fails.size <= this.maxKeys) return;
    for (const key of [...this.fails.keys()]) this.recent(key, now);
    while (this.fails.size > this.maxKeys) this.fails.delete(this.fails.keys().next().value!);
  }

  get size(): number {
    return this.fails.size;
  }
}
