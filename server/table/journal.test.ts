/**
 * The journal is write-ahead and survives a failing disk: faults are
 * injected through the JournalDisk interface (and, where the old journal
 * must fail too, through the real file system: journal.jsonl made a folder).
 */
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceKey, ServiceRules } from '@/lib/ipvs/model';
import { Journal, type JournalDisk } from './journal';
import type { JournalObject } from '@/lib/journal/types';
import { callerFor, makeDeps, OPERATOR } from '../api/testing';

const META = { role: 'operator' as const, tokenName: 'operator', remote: 'test' };
const key = (port: number): ServiceKey => ({ kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port });
const svc = (port: number, dests = 0): ServiceRules => ({
  key: key(port), scheduler: 'rr', flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false },
  timeout: 0, netmask: '255.255.255.255', pe: null,
  destinations: Array.from({ length: dests }, (_, i) => ({
    family: 'inet' as const, address: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, port, forward: 'dr' as const, weight: 1,
    upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip' as const, port: 0, checksum: 'nocsum' as const },
  })),
});
const added = (port: number): JournalObject => ({ kind: 'service', key: key(port), before: null, after: svc(port) });

/** An in-memory disk that can be made to fail, whole or after writing part of the data (a torn line). */
class FaultyDisk implements JournalDisk {
  files = new Map<string, string>();
  mode: 'ok' | 'fail' | 'torn' = 'ok';
  async append(file: string, text: string): Promise<void> {
    if (this.mode === 'fail') throw new Error('ENOSPC: no space left on device');
    if (this.mode === 'torn') {
      this.files.set(file, (this.files.get(file) ?? '') + text.slice(0, Math.floor(text.length / 2)));
      throw new Error('EIO: i/o error');
    }
    this.files.set(file, (this.files.get(file) ?? '') + text);
  }
  async read(file: string): Promise<string | null> {
    return this.files.get(file) ?? null;
  }
  async size(file: string): Promise<number> {
    return Buffer.byteLength(this.files.get(file) ?? '');
  }
  async rename(from: string, to: string): Promise<void> {
    const t = this.files.get(from);
    if (t === undefined) return;
    this.files.set(to, t);
    this.files.delete(from);
  }
}

describe('journal on a failing disk (injected)', () => {
  it('refuses a change while the disk fails, with a clear error, and works again once it recovers', async () => {
    const disk = new FaultyDisk();
    const j = await Journal.open('/state', { disk });
    await (await j.begin({ ...META, op: 'services.create' }, [added(80)])).done([added(80)]);
    disk.mode = 'fail';
    await expect(j.begin({ ...META, op: 'services.create' }, [added(81)])).rejects.toThrow(
      'cannot write the journal: ENOSPC: no space left on device; nothing was changed');
    expect(j.lastError).toMatch(/ENOSPC/);
    disk.mode = 'ok';
    const p = await j.begin({ ...META, op: 'services.create' }, [added(82)]);
    await p.done([added(82)]);
    expect(j.lastError).toBeNull();
    const again = await Journal.open('/state', { disk });
    expect(again.list({ limit: 10 }).map((e) => [e.op, e.state, (e.objects[0] as { key: { port: number } }).key.port]))
      .toEqual([['services.create', 'done', 82], ['services.create', 'done', 80]]);
  });

  it('a half-written record is skipped with a warning and never merged with the next', async () => {
    const disk = new FaultyDisk();
    const j = await Journal.open('/state', { disk });
    await (await j.begin({ ...META, op: 'a' }, [added(80)])).done([added(80)]);
    disk.mode = 'torn';
    await expect(j.begin({ ...META, op: 'b' }, [added(81)])).rejects.toThrow(/cannot write the journal: EIO/);
    disk.mode = 'ok';
    await (await j.begin({ ...META, op: 'c' }, [added(82)])).done([added(82)]);
    const again = await Journal.open('/state', { disk });
    expect(again.list({ limit: 10 }).map((e) => e.op)).toEqual(['c', 'a']);
    expect(again.warnings).toEqual(['/state/journal.jsonl:3: skipped a line that does not parse (torn by a crash or a failing disk)']);
  });

  it('a completion that cannot be written is kept and written before the next change', async () => {
    const disk = new FaultyDisk();
    const j = await Journal.open('/state', { disk });
    const p = await j.begin({ ...META, op: 'a' }, [added(80)]);
    disk.mode = 'fail';
    // the kernel has changed by now: done() records it in memory and does not throw
    expect((await p.done([added(80)])).state).toBe('done');
    disk.mode = 'ok';
    await (await j.begin({ ...META, op: 'b' }, [added(81)])).done([added(81)]);
    const again = await Journal.open('/state', { disk });
    expect(again.list({ limit: 10 }).map((e) => [e.op, e.state])).toEqual([['b', 'done'], ['a', 'done']]);
  });

  it('a change begun and never finished (a crash) reads back as interrupted and is not undone', async () => {
    const disk = new FaultyDisk();
    const j = await Journal.open('/state', { disk });
    await (await j.begin({ ...META, op: 'first' }, [added(80)])).done([added(80)]);
    await j.begin({ ...META, op: 'crashed' }, [added(81)]);
    const again = await Journal.open('/state', { disk });
    expect(again.list({ limit: 10 }).map((e) => [e.op, e.state])).toEqual([['crashed', 'interrupted'], ['first', 'done']]);
    expect(again.lastUndoable()?.op).toBe('first');
  });

  it('rotates the file past its bound and keeps the ids going', async () => {
    const disk = new FaultyDisk();
    const limits = { fileBytes: 4096, keepFiles: 2 };
    let j = await Journal.open('/state', { disk, limits });
    for (let i = 0; i < 60; i++) await (await j.begin({ ...META, op: `op${i}` }, [added(1000 + i)])).done([added(1000 + i)]);
    expect(await disk.size('/state/journal.jsonl')).toBeLessThanOrEqual(4096);
    expect(disk.files.has('/state/journal.jsonl.1')).toBe(true);
    expect(disk.files.has('/state/journal.jsonl.2')).toBe(true);
    expect(disk.files.has('/state/journal.jsonl.3')).toBe(false);
    j = await Journal.open('/state', { disk, limits });
    const p = await j.begin({ ...META, op: 'next' });
    expect(p.id).toBe(61);
  });
});

describe('journal bounds', () => {
  it('keeps at most memoryEntries entries and memoryBytes bytes in memory', async () => {
    const j = await Journal.open(null, { limits: { memoryEntries: 50, memoryBytes: 1_000_000 } });
    for (let i = 0; i < 200; i++) await j.append({ ...META, op: `op${i}`, objects: [added(i + 1)] });
    expect(j.size).toBe(50);
    expect(j.list({ limit: 1 })[0]!.op).toBe('op199');
    const small = await Journal.open(null, { limits: { memoryEntries: 10_000, memoryBytes: 20_000 } });
    for (let i = 0; i < 500; i++) await small.append({ ...META, op: `op${i}`, objects: [added(i + 1)] });
    expect(small.memoryBytes).toBeLessThanOrEqual(20_000);
    expect(small.size).toBeLessThan(500);
  });

  it('a service with thousands of real servers (under 1 MiB) is kept whole, so it can be undone', async () => {
    const j = await Journal.open(null);
    const big: JournalObject = { kind: 'service', key: key(80), before: null, after: svc(80, 4096) };
    expect(JSON.stringify(big).length).toBeGreaterThan(500_000);
    const e = await (await j.begin({ ...META, op: 'services.create' }, [big])).done([big]);
    expect(e.objects).toEqual([big]);
    expect(e.summary).toBeUndefined();
  });

  it('a 3,000-service restore is kept as a summary, not the whole table, and undo says why it cannot go back', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'journal-'));
    try {
      const j = await Journal.open(dir);
      const objects: JournalObject[] = Array.from({ length: 3000 }, (_, i) => ({ kind: 'service', key: key(i + 1), before: null, after: svc(i + 1, 2) }));
      expect(JSON.stringify(objects).length).toBeGreaterThan(1_500_000);
      const p = await j.begin({ ...META, op: 'snapshot.restore', summary: '6000 operation(s) on 3000 service(s)' });
      const e = await p.done(objects);
      expect(e.objects).toEqual([]);
      expect(e.summary).toMatch(/^6000 operation\(s\) on 3000 service\(s\): 3000 service\(s\) with 6000 real server\(s\), \d+ bytes: too large to keep for undo$/);
      expect((await readFile(path.join(dir, 'journal.jsonl'))).length).toBeLessThan(2000);
      expect(j.lastUndoable()?.id).toBe(e.id);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('journal on the real file system', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'journal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('after one failed append, later appends work once the disk recovers (no stuck state until restart)', async () => {
    const j = await Journal.open(dir);
    await j.append({ ...META, op: 'a', objects: [added(80)] });
    // journal.jsonl cannot be appended to while it is a folder: every append fails with EISDIR
    await rm(path.join(dir, 'journal.jsonl'));
    await mkdir(path.join(dir, 'journal.jsonl'));
    await expect(j.append({ ...META, op: 'b', objects: [added(81)] })).rejects.toThrow(/EISDIR/);
    await rmdir(path.join(dir, 'journal.jsonl'));
    await j.append({ ...META, op: 'c', objects: [added(82)] });
    const again = await Journal.open(dir);
    expect(again.list({ limit: 10 }).map((e) => e.op)).toEqual(['c']);
  });

  it('a torn last line (a crash mid-append) does not swallow the next entry', async () => {
    const file = path.join(dir, 'journal.jsonl');
    const first = { id: 1, at: '2026-12-04T00:00:00.000Z', ...META, op: 'a', objects: [] };
    await writeFile(file, `${JSON.stringify(first)}\n{"id":2,"at":"2026-12-04T00:00:01.000Z","role":"oper`);
    const j = await Journal.open(dir);
    await j.append({ ...META, op: 'after-crash', objects: [added(80)] });
    const again = await Journal.open(dir);
    expect(again.list({ limit: 10 }).map((e) => e.op)).toEqual(['after-crash', 'a']);
  });

  it('the kernel is not changed when the journal cannot be written', async () => {
    const deps = await makeDeps({ stateDir: dir });
    const op = callerFor(deps, OPERATOR);
    await mkdir(path.join(dir, 'journal.jsonl'));
    const e = await op.services.create({
      service: { key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler: 'rr' },
      destinations: [],
    }).then(() => null, (x: unknown) => x as { code: string; message: string });
    expect(e?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(e?.message).toMatch(/^cannot write the journal: EISDIR.*; nothing was changed$/);
    expect(await deps.fake.dump()).toEqual([]);
    const r = await op.snapshot.restore({ format: 'ipvsadm', text: '-A -t 192.0.2.10:80 -s rr\n' }).then(() => null, (x: unknown) => x as Error);
    expect(r?.message).toMatch(/^cannot write the journal/);
    expect(await deps.fake.dump()).toEqual([]);
    // the disk recovers: the next change goes through and is journaled
    await rmdir(path.join(dir, 'journal.jsonl'));
    await op.snapshot.restore({ format: 'ipvsadm', text: '-A -t 192.0.2.10:80 -s rr\n' });
    expect((await deps.fake.dump()).length).toBe(1);
    expect((await op.journal.list())[0]).toMatchObject({ op: 'snapshot.restore', state: 'done' });
  });
});
