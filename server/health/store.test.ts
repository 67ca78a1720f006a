/** The health store recovers from a failed write by itself, and a torn history line never swallows the next. */
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HealthStore, type HistoryEntry } from './store';

const entry = (message: string): Omit<HistoryEntry, 'id'> => ({
  at: 0, service: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 },
  destination: { family: 'inet', address: '10.0.1.1', port: 80 }, from: 'up', to: 'down', message, durationMs: null, action: 'none',
});

describe('health store on a failing disk', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hstore-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('after one failed write, later writes work once the disk recovers', async () => {
    const s = await HealthStore.open(dir);
    // health-history.jsonl cannot be appended to while it is a folder
    await mkdir(path.join(dir, 'health-history.jsonl'));
    await expect(s.addHistory(entry('a'))).rejects.toThrow(/EISDIR/);
    await rmdir(path.join(dir, 'health-history.jsonl'));
    await s.addHistory(entry('b'));
    await s.put({ kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 }, null);
    const again = await HealthStore.open(dir);
    expect(again.historyList({ limit: 10 }).map((e) => e.message)).toEqual(['b']);
  });

  it('a torn last history line does not swallow the next entry', async () => {
    await writeFile(path.join(dir, 'health-history.jsonl'), `${JSON.stringify({ ...entry('a'), id: 1 })}\n{"id":2,"at":0,"serv`);
    const s = await HealthStore.open(dir);
    await s.addHistory(entry('after-crash'));
    const again = await HealthStore.open(dir);
    expect(again.historyList({ limit: 10 }).map((e) => e.message)).toEqual(['after-crash', 'a']);
    expect((await readFile(path.join(dir, 'health-history.jsonl'), 'utf8')).split('\n').length).toBe(4);
  });
});
