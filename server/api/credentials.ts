/**
 * Credentials the agent issued to consoles through enrollment: a viewer and
 * an operator token per console, kept only as SHA-256 digests in
 * <state>/tokens/consoles.json (0600). A console that is removed revokes its
 * own pair; an operator can also delete the entry by hand and restart.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Identity, Role } from '@/lib/auth/identity';

const entrySchema = z.object({
  id: z.string().regex(/^[a-z0-9]{8,32}$/),
  role: z.enum(['viewer', 'operator']),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  label: z.string().max(200),
  createdAt: z.string().max(40),
});
type Entry = z.infer<typeof entrySchema>;
const fileSchema = z.array(entrySchema).max(1000);

/** at most this many enrolled consoles (two entries each): the file and the per-request scan stay small */
export const MAX_CONSOLES = 100;

export function credentialsFile(stateDir: string): string {
  return path.join(stateDir, 'tokens', 'consoles.json');
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export class Credentials {
  /** issue and revoke run one at a time: each rewrites the whole file from the current entries */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly file: string | null, private entries: (Entry & { d: Buffer })[]) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  static async open(stateDir: string): Promise<Credentials> {
    const file = credentialsFile(stateDir);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    let raw: unknown = [];
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file}: ${(e as Error).message}`);
    }
    const parsed = fileSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ')}`);
    return new Credentials(file, parsed.data.map((e) => ({ ...e, d: Buffer.from(e.digest, 'hex') })));
  }

  /** In memory only, for tests. */
  static memory(): Credentials {
    return new Credentials(null, []);
  }

  /** The identity a token digest grants; every entry is compared so timing does not tell which was close. */
  match(d: Buffer): Identity | null {
    let found: Entry | null = null;
    for (const e of this.entries) if (timingSafeEqual(d, e.d)) found = e;
    return found ? { role: found.role, tokenName: `console-${found.id}` } : null;
  }

  list(): { id: string; label: string; createdAt: string; roles: Role[] }[] {
    const byId = new Map<string, { id: string; label: string; createdAt: string; roles: Role[] }>();
    for (const e of this.entries) {
      const v = byId.get(e.id) ?? { id: e.id, label: e.label, createdAt: e.createdAt, roles: [] };
      v.roles.push(e.role);
      byId.set(e.id, v);
    }
    return [...byId.values()];
  }

  /** A new viewer + operator token pair for a console; the tokens are returned once and stored only as digests. */
  issue(label: string, now = new Date()): Promise<{ id: string; viewerToken: string; operatorToken: string }> {
    return this.serial(() => this.issueNow(label, now));
  }

  private async issueNow(label: string, now: Date): Promise<{ id: string; viewerToken: string; operatorToken: string }> {
    if (this.list().length >= MAX_CONSOLES) throw new Error(`this agent already has ${MAX_CONSOLES} enrolled consoles; remove one first`);
    const id = randomBytes(8).toString('hex');
    const viewerToken = `viewer_${randomBytes(32).toString('base64url')}`;
    const operatorToken = `operator_${randomBytes(32).toString('base64url')}`;
    const common = { id, label: label.slice(0, 200), createdAt: now.toISOString() };
    const add: (Entry & { d: Buffer })[] = [
      { ...common, role: 'viewer', digest: digest(viewerToken).toString('hex'), d: digest(viewerToken) },
      { ...common, role: 'operator', digest: digest(operatorToken).toString('hex'), d: digest(operatorToken) },
    ];
    await this.save([...this.entries, ...add]);
    return { id, viewerToken, operatorToken };
  }

  /** Removes the pair the given token belongs to; false when the token is not an enrolled console's. */
  revokeByToken(token: string): Promise<string | null> {
    return this.serial(() => this.revokeNow(token));
  }

  private async revokeNow(token: string): Promise<string | null> {
    const who = this.match(digest(token));
    if (!who) return null;
    const id = who.tokenName.slice('console-'.length);
    await this.save(this.entries.filter((e) => e.id !== id));
    return id;
  }

  private async save(next: (Entry & { d: Buffer })[]): Promise<void> {
    if (this.file) {
      const tmp = `${this.file}.tmp-${process.pid}`;
      const text = JSON.stringify(next.map(({ d: _d, ...e }) => e), null, 1) + '\n';
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, this.file);
    }
    this.entries = next;
  }
}
