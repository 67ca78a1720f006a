/**
 * Console users: a JSON file (mode 0600) of names, roles and scrypt hashes; no
 * password is ever written anywhere. `director console user …` and the console's
 * Users page both edit it; the running console re-reads it when it changes and
 * ends the sessions of users removed or given another role.
 *
 *   { "version": 1, "users": [{ "name": "alice", "role": "admin", "hash": "scrypt$16384$8$1$<salt>$<key>" }] }
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { chownSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ROLES, type Role } from './config';

export const USERNAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const USERNAME_RULE = 'a user name is 1-64 letters, digits, ., _, @ or -, starting with a letter or digit';
export const MIN_PASSWORD = 10;
export const MAX_PASSWORD = 1024;
const MAX_USERS = 1000;
const MAX_FILE_BYTES = 1024 * 1024;

/** scrypt cost: N=2^14, r=8, p=1 (16 MiB, ~50 ms); stored with each hash so it can be raised later. */
export const SCRYPT_PARAMS = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

export interface User { name: string; role: Role; hash: string }

export class UserStoreError extends Error {
  override readonly name = 'UserStoreError';
}

/** Async scrypt: runs on libuv's thread pool, never on the event loop. */
function scryptAsync(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string, salt: Buffer = randomBytes(16), params = SCRYPT_PARAMS): Promise<string> {
  const { N, r, p, keylen } = params;
  const key = await scryptAsync(password, salt, keylen, { N, r, p, maxmem: 256 * N * r });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

interface ParsedHash { N: number; r: number; p: number; salt: Buffer; key: Buffer }

/** Parses a stored hash, refusing costs that would let a crafted file stall the console. */
export function parseHash(stored: string): ParsedHash | null {
  const m = /^scrypt\$(\d{1,7})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,88})\$([A-Za-z0-9_-]{22,88})$/.exec(stored);
  if (!m) return null;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 ** 10 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return null;
  const key = Buffer.from(m[5]!, 'base64url');
  if (key.length < 16 || key.length > 64) return null;
  return { N, r, p, salt: Buffer.from(m[4]!, 'base64url'), key };
}

export async function verifyPassword(stored: string, given: string): Promise<boolean> {
  const h = parseHash(stored);
  // A broken entry still costs a hash, so it is not told apart by timing.
  const use = h ?? parseHash(DUMMY_HASH)!;
  const got = await scryptAsync(given.slice(0, MAX_PASSWORD), use.salt, use.key.length, { N: use.N, r: use.r, p: use.p, maxmem: 256 * use.N * use.r + 1024 });
  return h !== null && timingSafeEqual(got, use.key);
}

/** A well-formed hash of nothing anyone knows, checked against when the name is unknown. */
const DUMMY_HASH = `scrypt$${SCRYPT_PARAMS.N}$${SCRYPT_PARAMS.r}$${SCRYPT_PARAMS.p}$${randomBytes(16).toString('base64url')}$${randomBytes(32).toString('base64url')}`;

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The user of that name, comparing against every entry with timingSafeEqual on
 * digests and without stopping early, so the time taken does not depend on
 * whether or where the name matches.
 */
export function findUserConstantTime(users: readonly User[], name: string): User | undefined {
  const want = digest(name);
  let found: User | undefined;
  for (const u of users) {
    const same = timingSafeEqual(digest(u.name), want);
    found = same ? u : found;
  }
  return found;
}

/** Checks a sign-in; unknown names cost the same scrypt as known ones. */
export async function authenticate(users: readonly User[], name: unknown, password: unknown): Promise<{ name: string; role: Role } | null> {
  if (typeof name !== 'string' || typeof password !== 'string' || name.length > 256 || password.length > MAX_PASSWORD) return null;
  const u = findUserConstantTime(users, name);
  const ok = await verifyPassword(u?.hash ?? DUMMY_HASH, password);
  return u && ok ? { name: u.name, role: u.role } : null;
}

const fileSchema = z.strictObject({
  version: z.literal(1),
  users: z.array(z.strictObject({
    name: z.string().regex(USERNAME_RE, USERNAME_RULE),
    role: z.enum(ROLES as [Role, ...Role[]]),
    hash: z.string().refine((h) => parseHash(h) !== null, 'not a scrypt hash (scrypt$N$r$p$salt$key)'),
  })).max(MAX_USERS),
}).superRefine((f, ctx) => {
  const seen = new Set<string>();
  f.users.forEach((u, i) => {
    if (seen.has(u.name)) ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `duplicate user '${u.name}'` });
    seen.add(u.name);
  });
});

export function checkNewPassword(password: string): void {
  if (password.length < MIN_PASSWORD) throw new UserStoreError(`passwords are at least ${MIN_PASSWORD} characters`);
  if (password.length > MAX_PASSWORD) throw new UserStoreError(`passwords are at most ${MAX_PASSWORD} characters`);
}

function checkName(name: string): void {
  if (!USERNAME_RE.test(name)) throw new UserStoreError(`'${name.slice(0, 80)}': ${USERNAME_RULE}`);
}

/** The users file: read on demand (cheap stat), written atomically with mode 0600. */
export class UserStore {
  private users: User[] = [];
  private stamp = '';

  constructor(readonly file: string) {}

  /** Reads the file if it changed since last time (a missing file is no users); true when it did. */
  reload(): boolean {
    let st;
    try {
      st = statSync(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserStoreError(`${this.file}: ${(e as Error).message}`);
      const changed = this.stamp !== 'missing';
      this.stamp = 'missing';
      this.users = [];
      return changed;
    }
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (stamp === this.stamp) return false;
    if (st.size > MAX_FILE_BYTES) throw new UserStoreError(`${this.file}: ${st.size} bytes; a users file is at most ${MAX_FILE_BYTES}`);
    this.users = UserStore.parse(this.file, readFileSync(this.file, 'utf8'));
    this.stamp = stamp;
    return true;
  }

  static parse(file: string, text: string): User[] {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new UserStoreError(`${file}: not valid JSON: ${(e as Error).message}`);
    }
    const r = fileSchema.safeParse(data);
    if (!r.success) throw new UserStoreError(r.error.issues.map((i) => `${file}: ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n'));
    return r.data.users;
  }

  list(): User[] {
    return this.users.map((u) => ({ ...u }));
  }

  get(name: string): User | undefined {
    return this.users.find((u) => u.name === name);
  }

  async add(name: string, role: Role, password: string): Promise<void> {
    checkName(name);
    checkNewPassword(password);
    const hash = await hashPassword(password);
    this.reload();
    if (this.get(name)) throw new UserStoreError(`user '${name}' already exists (change it with passwd or role)`);
    this.write([...this.users, { name, role, hash }]);
  }

  async setPassword(name: string, password: string): Promise<void> {
    checkNewPassword(password);
    const hash = await hashPassword(password);
    this.reload();
    if (!this.get(name)) throw new UserStoreError(`no user '${name}'`);
    this.write(this.users.map((u) => (u.name === name ? { ...u, hash } : u)));
  }

  setRole(name: string, role: Role): void {
    this.reload();
    if (!this.get(name)) throw new UserStoreError(`no user '${name}'`);
    this.write(this.users.map((u) => (u.name === name ? { ...u, role } : u)));
  }

  remove(name: string): void {
    this.reload();
    if (!this.get(name)) throw new UserStoreError(`no user '${name}'`);
    this.write(this.users.filter((u) => u.name !== name));
  }

  /**
   * Write beside the file and rename over it (readers never see half a file), mode
   * 0600, owned like the file it replaces (or its folder): root running the CLI
   * must leave a file the console's own user can still read and write.
   */
  private write(users: User[]): void {
    const dir = path.dirname(this.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    let owner: { uid: number; gid: number } | null = null;
    try {
      owner = statSync(this.file);
    } catch {
      owner = statSync(dir);
    }
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, `${JSON.stringify({ version: 1, users }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      if (process.getuid?.() === 0 && owner) chownSync(tmp, owner.uid, owner.gid);
      renameSync(tmp, this.file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new UserStoreError(`${this.file}: cannot write: ${(e as Error).message}`);
    }
    this.stamp = '';
    this.reload();
  }
}
