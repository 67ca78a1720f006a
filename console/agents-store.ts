/**
 * Directors the console enrolled (console/enroll-client.ts), persisted in the
 * console's state folder as agents.json (0600: it holds the tokens). Written
 * by the Directors page and by `director console add-agent`; a running console
 * picks up a change made by the command at its next look (mtime).
 */
import { chownSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { FINGERPRINT_RE } from '../lib/enroll/code';

export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const storedAgentSchema = z.strictObject({
  id: z.string().regex(ID_RE, 'id is 1-64 letters, digits, _ or -'),
  name: z.string().trim().min(1).max(80),
  url: z.string().url().refine((u) => u.startsWith('https://'), 'an enrolled director is reached over https'),
  fingerprint: z.string().regex(FINGERPRINT_RE, 'fingerprint is AA:BB:… (SHA-256, 32 pairs)'),
  viewerToken: z.string().min(32),
  operatorToken: z.string().min(32),
  credentialId: z.string().max(32),
  enrolledAt: z.string().max(40),
});
export type StoredAgent = z.infer<typeof storedAgentSchema>;
const fileSchema = z.array(storedAgentSchema).max(500);

export const DEFAULT_CONSOLE_STATE_DIR = '/var/lib/director-console';
export function agentsFile(stateDir: string): string {
  return path.join(stateDir, 'agents.json');
}

export class AgentsStore {
  private cache: StoredAgent[] = [];
  private mtimeMs = -1;
  private checkedAt = 0;

  constructor(readonly file: string, private readonly now: () => number = Date.now) {}

  /** The stored directors, re-read when the file changed (looked at most once a second). */
  list(): StoredAgent[] {
    const t = this.now();
    if (t - this.checkedAt < 1000 && this.mtimeMs !== -1) return this.cache;
    this.checkedAt = t;
    let m: number;
    try {
      m = statSync(this.file).mtimeMs;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.cache = [];
      this.mtimeMs = 0;
      return this.cache;
    }
    if (m !== this.mtimeMs) {
      this.cache = this.read();
      this.mtimeMs = m;
    }
    return this.cache;
  }

  private read(): StoredAgent[] {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`${this.file}: ${(e as Error).message}`);
    }
    const p = fileSchema.safeParse(raw);
    if (!p.success) throw new Error(`${this.file}: ${p.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ')}`);
    return p.data;
  }

  private write(list: StoredAgent[]): void {
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(list, null, 1) + '\n', { mode: 0o600 });
    // written by root (director console add-agent), read by the console's own user: give it the folder's owner
    if (typeof process.getuid === 'function' && process.getuid() === 0) {
      const dir = statSync(path.dirname(this.file));
      if (dir.uid !== 0) chownSync(tmp, dir.uid, dir.gid);
    }
    renameSync(tmp, this.file);
    this.cache = list;
    this.mtimeMs = statSync(this.file).mtimeMs;
    this.checkedAt = this.now();
  }

  /** Adds a director; `taken` are ids used elsewhere (the static configuration), which a new id must avoid too. */
  add(a: Omit<StoredAgent, 'id'> & { id?: string }, taken: readonly string[] = []): StoredAgent {
    const list = this.read();
    const used = new Set([...taken, ...list.map((x) => x.id)]);
    const base = (a.id ?? a.name).toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 56) || 'director';
    let id = base;
    for (let i = 2; used.has(id); i++) id = `${base}-${i}`;
    if (list.some((x) => x.url === a.url)) throw new Error(`a director at ${a.url} is already enrolled ('${list.find((x) => x.url === a.url)!.name}'); remove it first`);
    const entry = storedAgentSchema.parse({ ...a, id });
    this.write([...list, entry]);
    return entry;
  }

  rename(id: string, name: string): StoredAgent {
    const list = this.read();
    const i = list.findIndex((x) => x.id === id);
    if (i < 0) throw new Error(`no enrolled director with id '${id}'`);
    const n = z.string().trim().min(1, 'a name is 1-80 characters').max(80, 'a name is 1-80 characters').safeParse(name);
    if (!n.success) throw new Error(n.error.issues[0]!.message);
    const next = [...list];
    next[i] = { ...list[i]!, name: n.data };
    this.write(next);
    return next[i]!;
  }

  remove(id: string): StoredAgent {
    const list = this.read();
    const gone = list.find((x) => x.id === id);
    if (!gone) throw new Error(`no enrolled director with id '${id}'`);
    this.write(list.filter((x) => x.id !== id));
    return gone;
  }
}
