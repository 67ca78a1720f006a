/**
 * The agent's rate history (lib/history/rings.ts) fed by the hub's samples,
 * kept in the state folder so a restart keeps the last 24 hours: written at
 * most once a minute (and at shutdown), atomically (temporary file, then
 * rename), mode 0600. A file that is not one this agent wrote is refused with
 * one log line and the agent starts with an empty history.
 */
import { lstat, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { HistoryStore, type HistoryOptions } from '@/lib/history/rings';
import { HistoryFileError, decodeHistory, encodeHistory, maxHistoryFileBytes } from '@/lib/history/file';
import type { SampleNote, TableHub } from './hub';

export const HISTORY_FILE = 'history.bin';
const SAVE_EVERY_MS = 60_000;

export class HistoryService {
  readonly store: HistoryStore;
  private lastSaveAt: number;
  private saving: Promise<void> | null = null;
  private warnedFull = false;
  readonly file: string | null;

  constructor(private readonly o: { stateDir: string | null; log: Logger; now?: () => number } & HistoryOptions) {
    this.store = new HistoryStore(o);
    this.file = o.stateDir ? path.join(o.stateDir, HISTORY_FILE) : null;
    this.lastSaveAt = (o.now ?? Date.now)();
  }

  /** A service over the history file in `stateDir` (null: kept in memory only). */
  static async open(o: { stateDir: string | null; log: Logger; now?: () => number } & HistoryOptions): Promise<HistoryService> {
    const h = new HistoryService(o);
    await h.load();
    return h;
  }

  get maxSeries(): number {
    return Math.floor(this.store.maxBytes / this.store.perSeries);
  }

  private async load(): Promise<void> {
    if (!this.file) return;
    const refuse = (why: string) => this.o.log.warn({ file: this.file }, `history file refused (${why}): starting with an empty history`);
    let st;
    try {
      st = await lstat(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') refuse((e as Error).message);
      return;
    }
    if (!st.isFile()) return refuse('not a regular file');
    const max = maxHistoryFileBytes(this.store.minuteSlots, this.maxSeries);
    if (st.size > max) return refuse(`${st.size} bytes, more than the ${max} a history file can hold`);
    try {
      const c = decodeHistory(new Uint8Array(await readFile(this.file)), { minuteSlots: this.store.minuteSlots, maxSeries: this.maxSeries });
      this.store.restore(c.minuteOf, c.series);
      this.o.log.info({ file: this.file, series: c.series.length }, 'history restored');
    } catch (e) {
      if (e instanceof HistoryFileError) return refuse(e.message);
      refuse((e as Error).message);
    }
  }

  /** Records every sample of `hub` from now on. */
  attach(hub: TableHub): void {
    hub.onSample((s) => this.record(s));
  }

  record(s: SampleNote): void {
    // the first sample has no rates (nothing to compute them from)
    if (s.intervalMs <= 0) return;
    const st = this.store;
    st.begin(s.at, s.intervalMs);
    // by key, then get: a for-of over entries makes a [key, value] array per object, every tick (HistoryStore.end)
    for (const sid of s.state.keys()) {
      const svc = s.state.get(sid)!;
      const v = svc.v;
      st.put(sid, null, v.rCps, v.rInPps, v.rOutPps, v.rInBps, v.rOutBps);
      for (const did of svc.dests.keys()) {
        const d = svc.dests.get(did)!;
        st.put(sid, did, d.rCps, d.rInPps, d.rOutPps, d.rInBps, d.rOutBps);
      }
    }
    st.end(s.complete);
    if (st.refused > 0 && !this.warnedFull) {
      this.warnedFull = true;
      this.o.log.warn({ maxBytes: st.maxBytes, stored: st.storedSeries }, 'history is full: objects beyond its memory bound get no history (logged once)');
    }
    if (this.file && s.at - this.lastSaveAt >= SAVE_EVERY_MS) void this.save(s.at);
  }

  /** Writes the file now (the next periodic write waits a minute from this one); a write during one follows it. */
  save(now = (this.o.now ?? Date.now)()): Promise<void> {
    if (!this.file) return Promise.resolve();
    this.lastSaveAt = now;
    const file = this.file;
    const tmp = `${file}.tmp`;
    const write = async () => {
      try {
        const bytes = encodeHistory(this.store, now);
        await unlink(tmp).catch(() => {});
        // 'wx': never through a link someone left at the temporary name
        const fh = await open(tmp, 'wx', 0o600);
        try {
          await fh.writeFile(bytes);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, file);
      } catch (err) {
        this.o.log.error({ err, file }, 'cannot write the history file');
      }
    };
    const next = (this.saving ?? Promise.resolve()).then(write);
    this.saving = next;
    void next.then(() => {
      if (this.saving === next) this.saving = null;
    });
    return next;
  }
}
