/**
 * The draft kept in the agent's state folder: it survives a restart (a new
 * store and agent context over the same folder), is written 0600 through a
 * temporary file, a change that cannot be written is not made, and a file
 * the agent would not have written is refused with the reason, starting empty.
 */
import { chmod, chown, lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DestinationSpec, ServiceKey } from '@/lib/ipvs/model';
import { callerFor, makeDeps, OPERATOR, silentLog, VIEWER } from '../api/testing';
import { DRAFT_FILE, DraftStore, MAX_DRAFT_FILE_BYTES } from './store';

const KEY: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 };
const dest = (address: string, weight = 1): DestinationSpec => ({
  family: 'inet', address, port: 80, forward: 'nat', weight, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' },
});
const EDIT = { op: 'destination.update', service: KEY, destination: { family: 'inet', address: '10.0.1.1', port: 80 }, patch: { weight: 5 } } as const;

let dir: string;
beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'draft-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

/** An agent over the state folder, with the fake kernel `fake` (kept across "restarts" like the real kernel). */
async function agent(fake?: Awaited<ReturnType<typeof makeDeps>>['fake']) {
  const deps = await makeDeps(fake ? { fake } : {});
  deps.drafts = await DraftStore.open({ stateDir: dir, log: silentLog });
  return { deps, op: callerFor(deps, OPERATOR), viewer: callerFor(deps, VIEWER) };
}

/** A valid file with one edit, to be spoiled by each hostile case. */
const goodFile = () => ({ version: 1, rev: 3, nextId: 2, edits: [{ id: 1, edit: EDIT, by: 'alice', at: '2026-12-05T07:00:00.000Z' }] });

describe('the draft kept in the state folder', () => {
  it('survives an agent restart: edits, who staged them, the revision and the next id; the file is 0600', async () => {
    const a = await agent();
    await a.op.services.create({ service: { key: KEY, scheduler: 'wlc' }, destinations: [dest('10.0.1.1'), dest('10.0.1.2')] });
    await a.op.changesets.stage({ edit: EDIT });
    await a.op.changesets.stage({ edit: { op: 'destination.create', service: KEY, destination: dest('10.0.1.3', 2) } });
    await a.op.changesets.unstage({ id: 1 });
    const before = await a.viewer.changesets.get();
    const st = await lstat(path.join(dir, DRAFT_FILE));
    expect(st.mode & 0o777).toBe(0o600);

    const b = await agent(a.deps.fake);
    const after = await b.viewer.changesets.get();
    expect(after.rev).toBe(before.rev);
    expect(after.edits).toEqual(before.edits);
    expect(after.diff).toBe(before.diff);
    const next = await b.op.changesets.stage({ edit: EDIT });
    expect(next.staged.id).toBe(3);
    // applied after the restart, the draft is empty on disk too
    await b.op.changesets.commit({ rev: next.rev });
    expect((await (await agent(a.deps.fake)).viewer.changesets.get()).edits).toEqual([]);
  });

  it('a change that cannot be written is not made, and says why', async () => {
    const a = await agent();
    await a.op.services.create({ service: { key: KEY, scheduler: 'wlc' }, destinations: [dest('10.0.1.1')] });
    await a.op.changesets.stage({ edit: EDIT });
    // a directory where the temporary file goes: the write fails
    await mkdir(path.join(dir, `${DRAFT_FILE}.tmp`));
    await expect(a.op.changesets.stage({ edit: { op: 'destination.create', service: KEY, destination: dest('10.0.1.3') } }))
      .rejects.toMatchObject({ message: expect.stringMatching(/^cannot keep the draft in the state folder \(.*\); the draft was not changed$/) });
    await expect(a.op.changesets.discard()).rejects.toMatchObject({ message: expect.stringContaining('cannot keep the draft') });
    const d = await a.viewer.changesets.get();
    expect(d.edits.map((e) => e.id)).toEqual([1]);
    expect(d.rev).toBe(1);
  });

  const hostile: [string, () => Promise<void>, RegExp][] = [
    ['a symbolic link', async () => {
      await writeFile(path.join(dir, 'elsewhere.json'), JSON.stringify(goodFile()), { mode: 0o600 });
      await symlink(path.join(dir, 'elsewhere.json'), path.join(dir, DRAFT_FILE));
    }, /^a symbolic link$/],
    ['not a regular file', async () => { await mkdir(path.join(dir, DRAFT_FILE)); }, /^not a regular file$/],
    ['writable by others', async () => {
      await writeFile(path.join(dir, DRAFT_FILE), JSON.stringify(goodFile()));
      await chmod(path.join(dir, DRAFT_FILE), 0o666);
    }, /^writable by others \(mode 666\)$/],
    ['too large', async () => { await writeFile(path.join(dir, DRAFT_FILE), ' '.repeat(MAX_DRAFT_FILE_BYTES + 1), { mode: 0o600 }); }, /more than the \d+ a draft file can hold/],
    ['not JSON', async () => { await writeFile(path.join(dir, DRAFT_FILE), '{"version":1,', { mode: 0o600 }); }, /^not JSON: /],
    ['another version', async () => { await writeFile(path.join(dir, DRAFT_FILE), JSON.stringify({ ...goodFile(), version: 2 }), { mode: 0o600 }); }, /^version: /],
    ['an edit that is not an edit', async () => {
      const f = goodFile();
      (f.edits[0]!.edit as unknown as Record<string, unknown>) = { op: 'shell', command: 'touch /tmp/x' };
      await writeFile(path.join(dir, DRAFT_FILE), JSON.stringify(f), { mode: 0o600 });
    }, /^edits\.0\.edit\.op: /],
    ['a field it never writes', async () => { await writeFile(path.join(dir, DRAFT_FILE), JSON.stringify({ ...goodFile(), extra: 1 }), { mode: 0o600 }); }, /^the file: /],
    ['a repeated id', async () => {
      const f = goodFile();
      f.edits.push({ ...f.edits[0]! });
      await writeFile(path.join(dir, DRAFT_FILE), JSON.stringify(f), { mode: 0o600 });
    }, /^edits\.1\.id: 1 is repeated/],
  ];
  for (const [what, make, why] of hostile) {
    it(`a draft file that is ${what} is refused with the reason; the draft starts empty`, async () => {
      await make();
      const warnings: string[] = [];
      const log = { ...silentLog, warn: (_o: unknown, msg: string) => { warnings.push(msg); }, info: () => {} } as unknown as typeof silentLog;
      const s = await DraftStore.open({ stateDir: dir, log });
      expect(s.refused).toMatch(why);
      expect(s.get()).toEqual({ rev: 0, edits: [] });
      expect(warnings).toEqual([expect.stringMatching(/^draft file refused \(.+\): starting with an empty draft$/)]);
    });
  }

  // chown to another user needs root; the agent's tests run as root in CI and the lab
  it.skipIf(process.getuid?.() !== 0)('a draft file owned by another user is refused with the reason (needs root to chown)', async () => {
    await writeFile(path.join(dir, DRAFT_FILE), JSON.stringify(goodFile()), { mode: 0o600 });
    await chown(path.join(dir, DRAFT_FILE), 65534, 65534);
    const s = await DraftStore.open({ stateDir: dir, log: silentLog });
    expect(s.refused).toBe('owned by uid 65534, not the agent\'s 0');
    expect(s.get().edits).toEqual([]);
  });

  it('the one good file is read, and its text is the agent\'s own words, not the file\'s', async () => {
    const f = goodFile();
    await writeFile(path.join(dir, DRAFT_FILE), JSON.stringify({ ...f, edits: f.edits.map((e) => ({ ...e })) }), { mode: 0o600 });
    const s = await DraftStore.open({ stateDir: dir, log: silentLog });
    expect(s.refused).toBeNull();
    expect(s.get()).toMatchObject({ rev: 3, edits: [{ id: 1, by: 'alice', text: 'edit real server 10.0.1.1:80 of TCP 10.0.0.1:80: weight 5' }] });
    // a later write replaces it through the temporary file, never writing through what is at the name
    await s.clear();
    expect(JSON.parse(await readFile(path.join(dir, DRAFT_FILE), 'utf8'))).toMatchObject({ version: 1, rev: 4, edits: [] });
  });
});
