import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { authenticate, findUserConstantTime, hashPassword, parseHash, UserStore, UserStoreError, verifyPassword } from './users';

// Count the comparisons and hashes the sign-in path makes, to check it does the same work for every name.
const calls = vi.hoisted(() => ({ timingSafeEqual: 0, scrypt: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => { calls.timingSafeEqual++; return real.timingSafeEqual(a, b); },
    scrypt: ((...args: Parameters<typeof real.scrypt>) => { calls.scrypt++; return (real.scrypt as (...a: unknown[]) => void)(...args); }) as typeof real.scrypt,
  };
});

describe('password hashes', () => {
  it('hashes with scrypt, a per-user salt and the parameters stored, and verifies', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword(a, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(a, 'correct horse batterx')).toBe(false);
    expect(await verifyPassword('scrypt$broken', 'x')).toBe(false);
  });

  it('refuses stored costs that would stall the console', () => {
    const salt = 'A'.repeat(22);
    const key = 'B'.repeat(43);
    expect(parseHash(`scrypt$16384$8$1$${salt}$${key}`)).not.toBeNull();
    expect(parseHash(`scrypt$1073741824$8$1$${salt}$${key}`)).toBeNull();
    expect(parseHash(`scrypt$16384$64$1$${salt}$${key}`)).toBeNull();
    expect(parseHash(`scrypt$16385$8$1$${salt}$${key}`)).toBeNull();
  });

  it('does not block the event loop while hashing (scrypt runs on the thread pool)', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await Promise.all([1, 2, 3, 4].map(() => hashPassword('some password')));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
  });
});

describe('sign-in in constant time', () => {
  const users = [
    { name: 'alice', role: 'admin' as const, hash: '' },
    { name: 'bob', role: 'operator' as const, hash: '' },
    { name: 'carol', role: 'viewer' as const, hash: '' },
  ];
  beforeEach(async () => {
    for (const u of users) u.hash = await hashPassword(`${u.name}-password`);
  });

  it('compares the name against every user, wherever it matches or not', () => {
    for (const name of ['alice', 'carol', 'mallory', '']) {
      calls.timingSafeEqual = 0;
      findUserConstantTime(users, name);
      expect(calls.timingSafeEqual, name).toBe(users.length);
    }
    expect(findUserConstantTime(users, 'bob')?.role).toBe('operator');
    expect(findUserConstantTime(users, 'bo')).toBeUndefined();
  });

  it('spends one scrypt on unknown names too, and accepts only the right password', async () => {
    for (const [name, pw, ok] of [['alice', 'alice-password', true], ['alice', 'wrong', false], ['mallory', 'alice-password', false]] as const) {
      calls.scrypt = 0;
      const r = await authenticate(users, name, pw);
      expect(r !== null, `${name}/${pw}`).toBe(ok);
      expect(calls.scrypt, `${name}/${pw}`).toBe(1);
    }
    expect(await authenticate(users, { $ne: 1 }, 'x')).toBeNull();
    expect(await authenticate(users, 'alice', 'x'.repeat(5000))).toBeNull();
  });
});

describe('users file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'director-users-'));
    file = path.join(dir, 'users.json');
  });
  afterEach(() => { vi.restoreAllMocks(); });

  it('adds, changes and removes users; stores only hashes, mode 0600', async () => {
    const s = new UserStore(file);
    expect(s.reload()).toBe(true);
    expect(s.list()).toEqual([]);
    await s.add('alice', 'admin', 'first password');
    await s.add('bob', 'viewer', 'second password');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('first password');
    expect(text).not.toContain('second password');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await authenticate(s.list(), 'alice', 'first password')).toEqual({ name: 'alice', role: 'admin' });
    await s.setPassword('alice', 'third password');
    expect(await authenticate(s.list(), 'alice', 'first password')).toBeNull();
    expect(await authenticate(s.list(), 'alice', 'third password')).not.toBeNull();
    s.setRole('bob', 'operator');
    expect(s.get('bob')?.role).toBe('operator');
    s.remove('bob');
    expect(s.list().map((u) => u.name)).toEqual(['alice']);
    expect(readFileSync(file, 'utf8')).not.toContain('third password');
  });

  it('refuses bad names, short passwords, duplicates and unknown users, changing nothing', async () => {
    const s = new UserStore(file);
    await s.add('alice', 'admin', 'first password');
    const before = readFileSync(file, 'utf8');
    await expect(s.add('bad name', 'viewer', 'long enough pw')).rejects.toThrow(/a user name is 1-64 letters/);
    await expect(s.add('bob', 'viewer', 'short')).rejects.toThrow(/at least 10 characters/);
    await expect(s.add('alice', 'viewer', 'long enough pw')).rejects.toThrow(/already exists/);
    await expect(s.setPassword('nobody', 'long enough pw')).rejects.toThrow(/no user 'nobody'/);
    expect(() => s.remove('nobody')).toThrow(UserStoreError);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('sees another writer\'s change (the CLI) on reload', async () => {
    const console_ = new UserStore(file);
    console_.reload();
    const cli = new UserStore(file);
    await cli.add('carol', 'operator', 'carol password');
    expect(console_.reload()).toBe(true);
    expect(console_.get('carol')?.role).toBe('operator');
    expect(console_.reload()).toBe(false);
  });

  it('names the file and the entry when the file is broken', () => {
    writeFileSync(file, JSON.stringify({ version: 1, users: [{ name: 'a', role: 'root', hash: 'plain' }] }));
    expect(() => new UserStore(file).reload()).toThrow(/users\.json: users\.0\.role: .*\n.*users\.json: users\.0\.hash: not a scrypt hash/);
    writeFileSync(file, '{');
    expect(() => new UserStore(file).reload()).toThrow(/users\.json: not valid JSON/);
  });
});
