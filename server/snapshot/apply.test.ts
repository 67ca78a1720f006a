// Fast tests of the apply/rollback logic on the stateful fake; the same behaviour is proven on the real kernel in apply.kernel.test.ts.
import { describe, expect, it } from 'vitest';
import { formatSnapshot } from '@/lib/snapshot/format';
import { parseSnapshot } from '@/lib/snapshot/parse';
import { FakeIpvs } from '../ipvs/fake';
import { RestoreFailedError, SnapshotInvalidError, restoreTable } from './apply';
import { restoreCommand } from './restore-command';
import { saveCommand } from './save-command';
import type { SnapshotCliDeps } from './cli-deps';
import { numericOnly } from '@/lib/snapshot/resolve';

const parse = async (t: string) => {
  const r = await parseSnapshot(t);
  expect(r.errors).toEqual([]);
  return r;
};

describe('restoreTable', () => {
  it('applies, then is a no-op the second time', async () => {
    const b = new FakeIpvs();
    const { services, lines } = await parse('-A -t 1.1.1.1:80 -s rr\n-a -t 1.1.1.1:80 -r 2.2.2.2 -m -w 3 -x 10 -y 5\n-A -f 5 -6 -p');
    const progress: number[] = [];
    const r = await restoreTable(b, services, { lines, onProgress: (d) => progress.push(d) });
    expect(r.applied).toBe(3);
    expect(progress).toEqual([0, 1, 2, 3]);
    expect(formatSnapshot(await b.dump())).toBe(formatSnapshot(services));
    expect((await restoreTable(b, services)).ops).toEqual([]);
  });

  it('rolls back everything when the kernel refuses an operation midway', async () => {
    const b = new FakeIpvs();
    await restoreTable(b, (await parse('-A -t 1.1.1.1:80 -s rr\n-a -t 1.1.1.1:80 -r 2.2.2.2 -m -w 3\n-A -t 7.7.7.7:80')).services);
    const before = formatSnapshot(await b.dump());
    const { services, lines } = await parse('-A -t 1.1.1.1:80 -s wrr\n-a -t 1.1.1.1:80 -r 2.2.2.2 -m -w 9\n-A -t 5.5.5.5:80\n-A -u 6.6.6.6:5060 -p --pe nosuch\n-A -t 8.8.8.8:80');
    const err = await restoreTable(b, services, { lines, mode: 'replace', window: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestoreFailedError);
    const f = err as RestoreFailedError;
    expect(f.line).toBe(4);
    expect(f.cause.code).toBe('unknown_scheduler');
    expect(f.rollbackErrors).toEqual([]);
    expect(f.undone).toBe(3);
    expect(formatSnapshot(await b.dump())).toBe(before);
  });

  it('pipelined: ops sent after the refusal are undone too and the table is exactly as before', async () => {
    const b = new FakeIpvs();
    await restoreTable(b, (await parse('-A -t 1.1.1.1:80 -s rr\n-a -t 1.1.1.1:80 -r 2.2.2.2 -m -w 3\n-A -t 7.7.7.7:80')).services);
    const before = formatSnapshot(await b.dump());
    const { services, lines } = await parse('-A -t 1.1.1.1:80 -s wrr\n-a -t 1.1.1.1:80 -r 2.2.2.2 -m -w 9\n-A -t 5.5.5.5:80\n-A -u 6.6.6.6:5060 -p --pe nosuch\n-A -t 8.8.8.8:80');
    const err = await restoreTable(b, services, { lines, mode: 'replace', window: 32 }).catch((e: unknown) => e);
    const f = err as RestoreFailedError;
    expect(f).toBeInstanceOf(RestoreFailedError);
    expect(f.line).toBe(4);
    expect(f.rollbackErrors).toEqual([]);
    // 3 before the refusal plus the create of 8.8.8.8 and the removal of 7.7.7.7 already in flight
    expect(f.undone).toBe(5);
    expect(formatSnapshot(await b.dump())).toBe(before);
  });

  it('refuses an invalid table before touching the backend', async () => {
    const b = new FakeIpvs();
    const bad = [{ key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '1.1.1.1', port: 80 }, scheduler: 'rr',
      flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0,
      netmask: '255.255.255.255', pe: null, destinations: [{ family: 'inet', address: '2.2.2.2', port: 80, forward: 'dr', weight: -1,
        upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' } }] }];
    await expect(restoreTable(b, bad as never)).rejects.toBeInstanceOf(SnapshotInvalidError);
    expect(b.calls.get('dump') ?? 0).toBe(0);
  });

  it('serialises concurrent restores', async () => {
    const b = new FakeIpvs();
    const a = (await parse('-A -t 1.1.1.1:80\n-a -t 1.1.1.1:80 -r 2.2.2.2 -w 1')).services;
    const c = (await parse('-A -t 1.1.1.1:80\n-a -t 1.1.1.1:80 -r 2.2.2.2 -w 2')).services;
    const results = await Promise.all([restoreTable(b, a), restoreTable(b, c), restoreTable(b, a)]);
    // each plan saw the previous restore's result: none failed on "already exists", and each changed what the last left
    expect(results.map((r) => r.ops.map((o) => o.kind))).toEqual([
      ['createService', 'createDestination'], ['updateDestination'], ['updateDestination'],
    ]);
  });
});

function io(stdin = '') {
  const out: string[] = [], err: string[] = [];
  return { out, err, io: { stdout: (s: string) => { out.push(s); }, stderr: (s: string) => { err.push(s); }, readStdin: async () => stdin } };
}
function deps(b: FakeIpvs, files: Record<string, string> = {}): SnapshotCliDeps {
  return {
    openBackend: async () => Object.assign(Object.create(b) as FakeIpvs, { close: () => {} }),
    readFile: async (p) => { if (!(p in files)) throw new Error('ENOENT: no such file'); return files[p]!; },
    resolver: numericOnly, hostname: () => 'lvs-test', now: () => new Date('2026-01-01T00:00:00Z'),
  };
}

describe('director restore / save commands', () => {
  it('prints FILE:LINE: message for each bad line and changes nothing', async () => {
    const b = new FakeIpvs();
    const t = io();
    const code = await restoreCommand(['rules.txt'], t.io, deps(b, { 'rules.txt': '-A -t 1.1.1.1:80\n-A -t 1.1.1.2:80 -s bogus\n' }));
    expect(code).toBe(1);
    expect(t.err[0]).toBe("rules.txt:2: unknown scheduler 'bogus' (known: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, none)\n");
    expect(await b.dump()).toEqual([]);
  });

  it('--dry-run prints the diff and changes nothing; stdin is read without a file', async () => {
    const b = new FakeIpvs();
    const t = io('-A -t 1.1.1.1:80 -s rr\n');
    expect(await restoreCommand(['--dry-run'], t.io, deps(b))).toBe(0);
    expect(t.out.join('')).toBe('+ -A -t 1.1.1.1:80 -s rr   # <stdin>:1\n1 to add, 0 to change, 0 to remove\n');
    expect(await b.dump()).toEqual([]);
  });

  it('save prints ipvsadm -Sn text and --json a snapshot that restore --json reads back', async () => {
    const b = new FakeIpvs();
    await restoreTable(b, (await parse('-A -t 1.1.1.1:80 -s rr\n-a -t 1.1.1.1:80 -r 2.2.2.2 -m -x 5')).services);
    const s = io();
    expect(await saveCommand([], s.io, deps(b))).toBe(0);
    expect(s.out.join('')).toBe('-A -t 1.1.1.1:80 -s rr\n-a -t 1.1.1.1:80 -r 2.2.2.2:80 -m -w 1 -x 5\n');
    const j = io();
    await saveCommand(['--json'], j.io, deps(b));
    const fresh = new FakeIpvs();
    const r = io();
    expect(await restoreCommand(['--json', 'snap.json'], r.io, deps(fresh, { 'snap.json': j.out.join('') }))).toBe(0);
    expect(formatSnapshot(await fresh.dump())).toBe(s.out.join(''));
  });

  it('reports the kernel refusal with file and line, and exits non-zero', async () => {
    const b = new FakeIpvs();
    const t = io();
    const code = await restoreCommand(['x'], t.io, deps(b, { x: '-A -t 1.1.1.1:80\n-A -u 1.1.1.1:5060 -p --pe nope\n' }));
    expect(code).toBe(1);
    expect(t.err.join('')).toMatch(/^x:2: the kernel refused '-A -u 1\.1\.1\.1:5060 -s wlc -p 360 --pe nope': .*undone, the table is unchanged/);
    expect(await b.dump()).toEqual([]);
  });
});
