import { describe, expect, it } from 'vitest';
import { LoginLimiter, readCookie, sessionCookie, Sessions, type EndReason } from './session';

describe('server-side sessions', () => {
  it('creates unguessable ids, finds them, ends them, and expires them', () => {
    const t = new Sessions(1000);
    const s = t.create('alice', 'operator', 0);
    expect(s.sid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(t.get(s.sid, 10)).toEqual(s);
    expect(t.get('forged', 10)).toBeNull();
    expect(t.get(undefined, 10)).toBeNull();
    expect(t.get(s.sid, 1000)).toBeNull();
    const s2 = t.create('alice', 'operator', 0);
    t.end(s2.sid, 'signed out');
    expect(t.get(s2.sid, 10)).toBeNull();
  });

  it('reconcile ends the sessions of removed users and of users whose role changed, and tells listeners', () => {
    const t = new Sessions();
    const ended: Array<[string, EndReason]> = [];
    t.onEnd((s, why) => ended.push([s.user, why]));
    const a = t.create('alice', 'admin');
    const b = t.create('bob', 'operator');
    const c = t.create('carol', 'viewer');
    const roles: Record<string, 'viewer' | 'operator' | 'admin'> = { alice: 'admin', bob: 'viewer' };
    expect(t.reconcile((u) => roles[u]).map((s) => s.user).sort()).toEqual(['bob', 'carol']);
    expect(ended.sort()).toEqual([['bob', 'role changed'], ['carol', 'user removed']]);
    expect(t.get(a.sid)).not.toBeNull();
    expect(t.get(b.sid)).toBeNull();
    expect(t.get(c.sid)).toBeNull();
  });

  it('is bounded: past the cap the oldest session goes', () => {
    const t = new Sessions(60_000, 3);
    const first = t.create('u', 'viewer');
    for (let i = 0; i < 5; i++) t.create(`u${i}`, 'viewer');
    expect(t.size).toBe(3);
    expect(t.get(first.sid)).toBeNull();
  });
});

describe('cookies', () => {
  it('sets HttpOnly, SameSite=Strict, Path=/ and Secure when asked', () => {
    const c = sessionCookie('v', true);
    expect(c).toMatch(/^director_session=v; /);
    for (const part of ['HttpOnly', 'SameSite=Strict', 'Path=/', 'Secure', 'Max-Age=43200']) expect(c).toContain(part);
    expect(sessionCookie('v', false)).not.toContain('Secure');
  });
  it('reads one cookie out of a header', () => {
    expect(readCookie('a=1; director_session=abc.def; b=2')).toBe('abc.def');
    expect(readCookie('a=1')).toBeUndefined();
    expect(readCookie(undefined)).toBeUndefined();
  });
});

describe('login limiter', () => {
  it('is keyed by user and address: guesses at alice from one address lock out neither alice elsewhere nor bob', () => {
    const l = new LoginLimiter(3, 1000, 50);
    for (let i = 0; i < 3; i++) l.fail('alice', '1.2.3.4', 100);
    expect(l.blocked('alice', '1.2.3.4', 200)).toMatch(/for this user from this address/);
    expect(l.blocked('alice', '5.6.7.8', 200)).toBeNull();
    expect(l.blocked('bob', '1.2.3.4', 200)).toBeNull();
    expect(l.blocked('alice', '1.2.3.4', 1200)).toBeNull();
  });

  it('caps one address spraying many names', () => {
    const l = new LoginLimiter(3, 1000, 5);
    for (let i = 0; i < 5; i++) l.fail(`user${i}`, '1.2.3.4', 100);
    expect(l.blocked('someone-else', '1.2.3.4', 200)).toMatch(/from this address/);
    expect(l.blocked('someone-else', '9.9.9.9', 200)).toBeNull();
  });

  it('a success clears that pair only', () => {
    const l = new LoginLimiter(2, 1000, 50);
    l.fail('alice', 'a', 1);
    l.fail('alice', 'a', 2);
    l.succeed('alice', 'a');
    expect(l.blocked('alice', 'a', 3)).toBeNull();
  });

  it('stays bounded under a flood of distinct names and addresses, keeping the newest', () => {
    const l = new LoginLimiter(3, 60_000, 1000, 100);
    for (let i = 0; i < 5000; i++) l.fail(`u${i}`, `10.0.${i >> 8}.${i & 255}`, 1000 + i);
    expect(l.size).toBeLessThanOrEqual(100);
    for (let i = 0; i < 3; i++) l.fail('victim', '1.1.1.1', 9000);
    expect(l.blocked('victim', '1.1.1.1', 9001)).not.toBeNull();
  });

  it('prunes entries past the window', () => {
    const l = new LoginLimiter(3, 1000, 50, 4);
    for (let i = 0; i < 4; i++) l.fail(`u${i}`, 'a', 0);
    l.fail('late', 'b', 5000);
    expect(l.size).toBe(2); // late's pair and b's address counter; the expired ones pruned
  });
});
