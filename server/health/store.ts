/**
 * Health configuration and transition history under the agent's state
 * directory: `health.json` (the config, replaced atomically, validated on
 * read so a hand edit cannot start checks against a bad target) and
 * `health-history.jsonl` (transitions, append-only, the newest kept in memory).
 */
import { chown, mkdir, readFile, rename, stat, writeFile, appendFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { serviceId } from '@/lib/ipvs/ids';
import type { ServiceKey } from '@/lib/ipvs/model';
import { healthTableSchema, type HealthServiceConfig, type HealthState } from '@/lib/schemas/health';

export const HEALTH_FILE = 'health.json';
const HISTORY_FILE = 'health-history.jsonl';
const HISTORY_KEPT = 2000;

export interface HistoryEntry {
  id: number;
  /** ms epoch */
  at: number;
  service: ServiceKey;
  destination: { family: 'inet' | 'inet6'; address: string; port: number };
  from: HealthState | 'maintenance';
  to: HealthState | 'maintenance';
  message: string;
  durationMs: number | null;
  /** what the agent did about it ("weight 5 -> 0", "in maintenance: ...") */
  action: string;
}

const fileSchema = z.object({ version: z.literal(1), services: healthTableSchema });

export class HealthConfigError extends Error {
  override readonly name = 'HealthConfigError';
}

export async function readHealthFile(file: string): Promise<HealthServiceConfig[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new HealthConfigError(`${file}: not JSON: ${(e as Error).message}`);
  }
  const r = fileSchema.safeParse(data);
  if (!r.success) {
    throw new HealthConfigError(`${file}: ${r.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return r.data.services;
}

/**
 * Replaces the file atomically, mode 0600. `owner` (a root CLI writing for
 * the agent's user) is given the file, and the folder when this creates it,
 * before the rename, so the agent never sees a file it cannot read.
 */
export async function writeHealthFile(
  file: string, services: readonly HealthServiceConfig[], opts: { owner?: { uid: number; gid: number } | null } = {},
): Promise<void> {
  const created = await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  if (created && opts.owner) await chown(path.dirname(file), opts.owner.uid, opts.owner.gid);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ version: 1, services }, null, 2) + '\n', { mode: 0o600 });
  if (opts.owner) await chown(tmp, opts.owner.uid, opts.owner.gid);
  await rename(tmp, file);
}

export class HealthStore {
  private configs = new Map<string, HealthServiceConfig>();
  private history: HistoryEntry[] = [];
  private nextId = 1;
  private mtimeMs = 0;
  private writes: Promise<void> = Promise.resolve();
  private historyFresh = false;

  private constructor(private readonly dir: string | null) {}

  static async open(stateDir: string | null): Promise<HealthStore> {
    const s = new HealthStore(stateDir);
    if (stateDir === null) return s;
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    await s.reloadIfChanged();
    try {
      const text = await readFile(path.join(stateDir, HISTORY_FILE), 'utf8');
      s.historyFresh = text.length > 0 && !text.endsWith('\n');
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        try {
          const e = JSON.parse(line) as HistoryEntry;
          s.history.push(e);
          s.nextId = Math.max(s.nextId, e.id + 1);
        } catch {
          // a line torn by a crash mid-append
        }
      }
      s.history = s.history.slice(-HISTORY_KEPT);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return s;
  }

  get file(): string | null {
    return this.dir ? path.join(this.dir, HEALTH_FILE) : null;
  }

  /** Re-reads health.json when something else (`director keepalived import`) replaced it. True when it changed. */
  async reloadIfChanged(): Promise<boolean> {
    const file = this.file;
    if (!file) return false;
    let m: number;
    try {
      m = (await stat(file)).mtimeMs;
    } catch {
      return false;
    }
    if (m === this.mtimeMs) return false;
    const list = await readHealthFile(file);
    this.mtimeMs = m;
    this.configs = new Map(list.map((c) => [serviceId(c.service), c]));
    return true;
  }

  list(): HealthServiceConfig[] {
    return [...this.configs.values()];
  }

  get(key: ServiceKey): HealthServiceConfig | null {
    return this.configs.get(serviceId(key)) ?? null;
  }

  /** Replaces (or with null removes) one service's config and persists. */
  async put(key: ServiceKey, cfg: HealthServiceConfig | null): Promise<void> {
    if (cfg) this.configs.set(serviceId(key), cfg);
    else this.configs.delete(serviceId(key));
    await this.persist();
  }

  private async persist(): Promise<void> {
    const file = this.file;
    if (!file) return;
    const snapshot = this.list();
    await this.serial(async () => {
      await writeHealthFile(file, snapshot);
      this.mtimeMs = (await stat(file)).mtimeMs;
    });
  }

  /**
   * Runs file writes one at a time. A failure is its caller's and leaves the
   * chain usable: one failed write must not fail every later one until a restart.
   */
  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.writes.then(fn);
    this.writes = run.catch(() => undefined);
    return run;
  }

  async addHistory(e: Omit<HistoryEntry, 'id'>): Promise<HistoryEntry> {
    const full = { ...e, id: this.nextId++ };
    this.history.push(full);
    if (this.history.length > HISTORY_KEPT) this.history.splice(0, this.history.length - HISTORY_KEPT);
    if (this.dir) {
      const f = path.join(this.dir, HISTORY_FILE);
      await this.serial(async () => {
        // after a failed append (or a torn tail) the next line starts fresh, so a torn one never swallows it
        const text = (this.historyFresh ? '\n' : '') + JSON.stringify(full) + '\n';
        try {
          await appendFile(f, text, { mode: 0o600 });
        } catch (e) {
          this.historyFresh = true;
          throw e;
        }
        this.historyFresh = false;
      });
    }
    return full;
  }

  /** Newest first. */
  historyList(opts: { limit: number; service?: ServiceKey; after?: number }): HistoryEntry[] {
    const sid = opts.service ? serviceId(opts.service) : null;
    const out: HistoryEntry[] = [];
    for (let i = this.history.length - 1; i >= 0 && out.length < opts.limit; i--) {
      const e = this.history[i]!;
      if (opts.after !== undefined && e.id <= opts.after) break;
      if (sid === null || serviceId(e.service) === sid) out.push(e);
    }
    return out;
  }
}
