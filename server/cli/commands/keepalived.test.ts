/** `director keepalived import/export` on the stateful fake kernel and a temporary state directory. */
import { chown, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseKeepalived } from '@/lib/keepalived/parse';
import { FakeIpvs } from '../../ipvs/fake';
import { readHealthFile, writeHealthFile } from '../../health/store';
import type { CliIo } from '../io';
import { fsIncludeReader, keepalivedCommand, type KeepalivedDeps } from './keepalived';

const CORPUS = path.join(import.meta.dirname, '../../../lib/keepalived/corpus');

function io() {
  const out = { stdout: '', stderr: '' };
  const cli: CliIo = { stdout: (s) => { out.stdout += s; }, stderr: (s) => { out.stderr += s; }, readStdin: async () => '' };
  return { out, cli };
}

describe('director keepalived', () => {
  let dir: string;
  let fake: FakeIpvs;
  let deps: KeepalivedDeps;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kd-'));
    fake = new FakeIpvs();
    deps = {
      openBackend: async () => fake, readFile: (p) => readFile(p, 'utf8'), resolver: { resolve: async () => null } as never,
      hostname: () => 'lvs1', now: () => new Date('2026-11-25T00:00:00Z'), include: fsIncludeReader,
    };
    // the fake's close() would make later calls fail: the command closes what it opens
    fake.close = () => {};
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a file with includes: table and checks; export gives the same back', async () => {
    const { out, cli } = io();
    const file = path.join(CORPUS, '07-split-with-include.conf');
    expect(await keepalivedCommand(['import', '--state-dir', dir, file], cli, deps)).toBe(0);
    expect(out.stdout).toMatch(/2 service\(s\), [1-9]\d* operation\(s\) applied; checks for 2 service\(s\)/);
    expect(out.stderr).toMatch(/07-split-with-include\.conf:2: note: global_defs skipped/);
    expect((await fake.dump()).map((s) => (s.key.kind === 'addr' ? s.key.port : 0)).sort()).toEqual([25, 8443]);
    expect((await readHealthFile(path.join(dir, 'health.json'))).length).toBe(2);
    const exp = io();
    expect(await keepalivedCommand(['export', '--state-dir', dir], exp.cli, deps)).toBe(0);
    const again = parseKeepalived(exp.out.stdout);
    const orig = parseKeepalived(await readFile(file, 'utf8'), { file, include: fsIncludeReader });
    expect(again.errors).toEqual([]);
    expect(new Set(again.services.map((s) => JSON.stringify(s)))).toEqual(new Set(orig.services.map((s) => JSON.stringify(s))));
    expect(again.health).toEqual(orig.health);
  });

  it('a file with an error changes nothing and prints FILE:LINE', async () => {
    const bad = path.join(dir, 'bad.conf');
    await writeFile(bad, 'virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.0.1.1 80 {\n    weight 1\n  }\n  lvs_sched best\n}\n');
    const { out, cli } = io();
    expect(await keepalivedCommand(['import', '--state-dir', dir, bad], cli, deps)).toBe(1);
    expect(out.stderr).toContain(`${bad}:6: lvs_sched: unknown scheduler 'best'`);
    expect(out.stderr).toContain('nothing was changed');
    expect(await fake.dump()).toEqual([]);
    expect(await readHealthFile(path.join(dir, 'health.json'))).toEqual([]);
  });

  it('--dry-run plans without writing the kernel or the checks', async () => {
    const { out, cli } = io();
    expect(await keepalivedCommand(['import', '-n', '--state-dir', dir, path.join(CORPUS, '01-reference-example.conf')], cli, deps)).toBe(0);
    expect(out.stdout).toMatch(/-A -t 10\.0\.0\.100:80 -s wlc -p 300/);
    expect(await fake.dump()).toEqual([]);
    expect(await readHealthFile(path.join(dir, 'health.json'))).toEqual([]);
  });

  it('export refuses a stored regex keepalived.conf cannot hold, naming the field, and prints nothing', async () => {
    const file = path.join(CORPUS, '01-reference-example.conf');
    expect(await keepalivedCommand(['import', '--state-dir', dir, file], io().cli, deps)).toBe(0);
    const stored = await readHealthFile(path.join(dir, 'health.json'));
    const check = stored[0]!.realServers[0]!.checks[0]!;
    if (check.type !== 'http') throw new Error('the corpus file changed: expected an HTTP check first');
    check.urls[0]!.regex = 'ok\n}\n}\n}\nvirtual_server 10.9.9.9 80 {';
    await writeHealthFile(path.join(dir, 'health.json'), stored);
    const exp = io();
    expect(await keepalivedCommand(['export', '--state-dir', dir], exp.cli, deps)).toBe(1);
    expect(exp.out.stdout).toBe('');
    expect(exp.out.stderr).toContain('TCP 10.0.0.100:80 real server 192.168.1.10:8080 HTTP_GET url 1 regex: contains a line break');
  });

  describe('includes stay inside the configuration\'s folder', () => {
    const VS = 'virtual_server 10.0.0.9 80 {\n protocol TCP\n lvs_method DR\n real_server 10.0.1.9 80 {\n }\n}\n';
    let conf: string;
    beforeEach(async () => {
      conf = path.join(dir, 'conf');
      await mkdir(conf);
      await writeFile(path.join(dir, 'outside.conf'), VS);
      await writeFile(path.join(conf, 'inside.conf'), VS);
    });

    it.each([
      ['../ out of the folder', 'include ../outside.conf\n', /outside\.conf is outside the configuration's folder/],
      ['an absolute path elsewhere', 'include /etc/passwd\n', /\/etc\/passwd is outside the configuration's folder/],
      ['a symbolic link inside pointing out', 'include link.conf\n', /link\.conf is outside the configuration's folder/],
      ['a glob in a folder outside', 'include ../*.conf\n', /is outside the configuration's folder/],
    ])('%s is refused, naming file and line, and nothing changes', async (_name, text, re) => {
      await symlink(path.join(dir, 'outside.conf'), path.join(conf, 'link.conf'));
      const main = path.join(conf, 'main.conf');
      await writeFile(main, `! main\n${text}`);
      const { out, cli } = io();
      expect(await keepalivedCommand(['import', '--state-dir', dir, main], cli, deps)).toBe(1);
      const line = out.stderr.split('\n').find((l) => re.test(l));
      expect(line, out.stderr).toMatch(new RegExp(`^${main.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: include `));
      expect(await fake.dump()).toEqual([]);
    });

    it('an include in the same folder (and a subfolder) is read', async () => {
      await mkdir(path.join(conf, 'sub'));
      await writeFile(path.join(conf, 'sub', 'more.conf'), VS.replace(/10\.0\.0\.9 80/, '10.0.0.9 81'));
      const main = path.join(conf, 'main.conf');
      await writeFile(main, 'include inside.conf\ninclude sub/*.conf\n');
      const { out, cli } = io();
      expect(await keepalivedCommand(['import', '--state-dir', dir, main], cli, deps), out.stderr).toBe(0);
      expect((await fake.dump()).length).toBe(2);
    });

    it('a self-including 121-byte file ends within a second with an error', async () => {
      const main = path.join(conf, 'self.conf');
      const text = 'include self.conf\ninclude self.conf\ninclude self.conf\ninclude self.conf\ninclude self.conf\n! a self-including file\n';
      await writeFile(main, text.padEnd(120, '!') + '\n');
      const { out, cli } = io();
      const t0 = performance.now();
      expect(await keepalivedCommand(['import', '--state-dir', dir, main], cli, deps)).toBe(1);
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(out.stderr).toContain(`${main}:1: include self.conf: ${main} includes itself`);
    });
  });

  it('run as root, import leaves health.json owned by the state folder\'s owner, mode 0600', async () => {
    expect(process.geteuid?.(), 'this test needs root to give files to another uid').toBe(0);
    const state = path.join(dir, 'state');
    await mkdir(state, { mode: 0o700 });
    await chown(state, 12345, 23456);
    const { out, cli } = io();
    expect(await keepalivedCommand(['import', '--state-dir', state, path.join(CORPUS, '01-reference-example.conf')], cli, deps), out.stderr).toBe(0);
    const st = await stat(path.join(state, 'health.json'));
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([12345, 23456, 0o600]);
    expect((await readdir(state)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a FILE that is not a regular file, or is over 4 MiB, is refused before it is read', async () => {
    const big = path.join(dir, 'big.conf');
    await writeFile(big, `! ${'x'.repeat(5 * 1024 * 1024)}\n`);
    for (const [f, why] of [[big, 'over 4 MiB'], [dir, 'not a regular file']] as const) {
      const { out, cli } = io();
      expect(await keepalivedCommand(['import', '--state-dir', dir, f], cli, deps)).toBe(1);
      expect(out.stderr).toBe(`${f}: cannot read: ${why}; nothing was changed\n`);
    }
    expect(await fake.dump()).toEqual([]);
  });

  it('usage errors exit 2', async () => {
    expect(await keepalivedCommand(['frobnicate'], io().cli, deps)).toBe(2);
    expect(await keepalivedCommand(['import'], io().cli, deps)).toBe(2);
  });
});
