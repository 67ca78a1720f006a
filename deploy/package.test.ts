/**
 * `npm run package` end to end, without touching the host: builds the .deb and the tarball,
 * reads them with dpkg-deb, unpacks the .deb with `dpkg -x` into a throwaway folder and runs
 * what it holds from `/`, with no checkout on any path: the CLI through the packaged launcher,
 * the console as an unprivileged user, and the units through `systemd-analyze verify`.
 * (server/cli/package.kernel.test.ts runs the packaged `director list` in the lab kernel.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
const arch = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout.trim();
const deb = path.join(root, 'dist', `director_${version}_${arch}.deb`);
const tarball = path.join(root, 'dist', `director-${version}-${arch}.tar.gz`);
let tmp = '';
let x = ''; // the unpacked package: x/usr/bin/director ...

/** A minimal environment: nothing of this checkout (no npm_*, no NODE_OPTIONS) reaches the packaged code. */
const cleanEnv = (extra: Record<string, string> = {}) => ({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...extra }) as unknown as NodeJS.ProcessEnv;

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd ?? '/', env: opts.env ?? cleanEnv(), maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

beforeAll(() => {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/package.mjs')], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`npm run package failed:\n${r.stdout}\n${r.stderr}`);
  // a folder others may traverse: the console runs as nobody from it below
  tmp = mkdtempSync(path.join(os.tmpdir(), 'director-pkg-'));
  chmodSync(tmp, 0o755);
  x = path.join(tmp, 'root');
  const u = sh('dpkg', ['-x', deb, x]);
  if (u.code !== 0) throw new Error(`dpkg -x: ${u.err}`);
}, 600_000);
afterAll(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

describe('the Debian package', () => {
  it('declares its dependencies, architecture and conffiles', () => {
    const info = sh('dpkg-deb', ['--info', deb]);
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/^ Package: director$/m);
    expect(info.out).toMatch(new RegExp(`^ Version: ${version.replace(/\./g, '\\.')}$`, 'm'));
    // netlink's addon is native code: the package is for this architecture, not "all"
    expect(info.out).toMatch(new RegExp(`^ Architecture: ${arch}$`, 'm'));
    expect(info.out).toMatch(/^ Depends: nodejs \(>= 20\), ipvsadm, iputils-arping$/m);
    expect(info.out).toMatch(/^ Recommends: keepalived$/m);
    expect(info.out).toMatch(/^ Suggests: zookeeper$/m);
    expect(sh('dpkg-deb', ['-f', deb, 'Package']).out.trim()).toBe('director');
    expect(sh('dpkg-deb', ['--info', deb, 'conffiles']).out).toBe('/etc/director/agent.toml\n/etc/director/console.toml\n');
    for (const s of ['postinst', 'prerm', 'postrm']) expect(sh('dpkg-deb', ['--info', deb, s]).code, s).toBe(0);
    expect(readFileSync(path.join(root, 'deploy/director-agent.service'), 'utf8')).toContain('--config /etc/director/agent.toml');
  });

  it('holds the program, units and configuration, owned by root, and no dev tooling', () => {
    const c = sh('dpkg-deb', ['--contents', deb]);
    expect(c.code).toBe(0);
    const lines = c.out.trim().split('\n');
    const files = lines.map((l) => l.replace(/^.* \.\//, '/').replace(/ -> .*$/, ''));
    for (const want of [
      '/usr/bin/director', '/usr/lib/director/cli/director.mjs', '/usr/lib/director/cli/conn-worker.mjs',
      `/usr/lib/director/node_modules/netlink/prebuilds/linux-${process.arch}/node.napi.node`,
      '/usr/lib/director/node_modules/node-gyp-build/index.js',
      '/usr/lib/director/console/console.mjs', '/usr/lib/director/console/console/server.mjs', '/usr/lib/director/console/.next/BUILD_ID',
      '/usr/lib/director/console/node_modules/next/package.json',
      '/usr/lib/systemd/system/director-agent.service', '/usr/lib/systemd/system/director-console.service',
      '/usr/lib/systemd/system/director-checks.service',
      '/usr/lib/systemd/system/director-agent.service.d/',
      '/usr/share/director/ha.conf', '/usr/share/director/setup-host.sh',
      '/etc/director/agent.toml', '/etc/director/console.toml',
    ]) expect(files, want).toContain(want);
    expect(files.some((f) => f.startsWith('/usr/lib/director/console/.next/static/'))).toBe(true);
    // only this architecture's addon; no TypeScript, tsx, test runners or bundlers
    expect(files.filter((f) => /\/prebuilds\/linux-[^/]+\/$/.test(f))).toEqual([`/usr/lib/director/node_modules/netlink/prebuilds/linux-${process.arch}/`]);
    expect(files.filter((f) => /\/node_modules\/(tsx|typescript|vitest|esbuild|@playwright|playwright-core|fast-check|tailwindcss)\//.test(f))).toEqual([]);
    expect(files.filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(lines.every((l) => l.split(/\s+/)[1] === 'root/root')).toBe(true);
    // the HA drop-in folder is shipped empty: CAP_NET_RAW only where HA is configured
    expect(files.filter((f) => f.startsWith('/usr/lib/systemd/system/director-agent.service.d/') && !f.endsWith('/'))).toEqual([]);
  });

  it('the tarball is the same tree', () => {
    const t = sh('tar', ['-tzf', tarball]);
    expect(t.code).toBe(0);
    const inTar = new Set(t.out.trim().split('\n').map((f) => `/${f.replace(/^\.\//, '').replace(/\/$/, '')}`));
    const inDeb = sh('dpkg-deb', ['--contents', deb]).out.trim().split('\n')
      .map((l) => l.replace(/^.* \.\//, '/').replace(/ -> .*$/, '').replace(/\/$/, '')).filter((f) => f !== '' && f !== '/' && f !== '/etc' && f !== '/usr');
    expect(inDeb.filter((f) => !inTar.has(f))).toEqual([]);
  });
});

describe('the unpacked package, run from / without the checkout', () => {
  // the packaged launcher, pointed at the unpacked tree instead of /usr/lib/director
  function launcher(): string {
    const text = readFileSync(path.join(x, 'usr/bin/director'), 'utf8');
    expect(text.split('\n')[0]).toBe('#!/usr/bin/node --no-memory-reducer');
    const p = path.join(tmp, 'director');
    writeFileSync(p, text.replaceAll('/usr/lib/director/', `${x}/usr/lib/director/`), { mode: 0o755 });
    return p;
  }

  it('director --version and director list --help', () => {
    const d = launcher();
    const v = sh(d, ['--version']);
    expect(v.err).toBe('');
    expect(v.out).toBe(`director ${version}\n`);
    const h = sh(d, ['list', '--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/usage: director list/);
    // the check runner (director-checks.service) is in the bundle, and refuses to run as root
    expect(sh(d, ['check-runner', '--help']).out).toMatch(/^usage: director check-runner --socket PATH/);
    if (process.getuid?.() === 0) expect(sh(d, ['check-runner', '--socket', path.join(tmp, 'c.sock')]).err).toContain('refusing to run as root');
    const a = sh(d, ['agent', '--help']);
    expect(a.out).toMatch(/--config +TOML file/);
    // the packaged agent.toml is a valid (all commented) file for the packaged agent
    const bad = sh(d, ['agent', '--config', path.join(x, 'etc/director/agent.toml'), '--tick-ms', '1']);
    expect(bad.err).toContain("--tick-ms must be an integer from 100 to 60000, got '1'");
  });

  it('the units pass systemd-analyze verify (the HA drop-in applied too)', () => {
    const dir = path.join(tmp, 'units');
    const unit = (f: string) => readFileSync(path.join(x, 'usr/lib/systemd/system', f), 'utf8').replaceAll('/usr/bin/director', path.join(x, 'usr/bin/director'));
    rmSync(dir, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', dir]);
    writeFileSync(path.join(dir, 'director-agent.service'), unit('director-agent.service'));
    writeFileSync(path.join(dir, 'director-console.service'), unit('director-console.service'));
    writeFileSync(path.join(dir, 'director-checks.service'), unit('director-checks.service'));
    writeFileSync(path.join(dir, 'director-agent-ha.service'), `${unit('director-agent.service')}\n${readFileSync(path.join(x, 'usr/share/director/ha.conf'), 'utf8')}`);
    const r = sh('systemd-analyze', ['verify', ...readdirSync(dir).map((f) => path.join(dir, f))], { env: cleanEnv({ SYSTEMD_LOG_LEVEL: 'notice' }) });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(unit('director-agent.service')).toMatch(/^AmbientCapabilities=CAP_NET_ADMIN$/m);
    expect(unit('director-console.service')).toMatch(/^CapabilityBoundingSet=$/m);
    expect(unit('director-checks.service')).toMatch(/^CapabilityBoundingSet=$/m);
    expect(unit('director-checks.service')).toMatch(/^InaccessiblePaths=-\/var\/lib\/director /m);
    expect(readFileSync(path.join(x, 'usr/share/director/ha.conf'), 'utf8')).toMatch(/^AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW$/m);
  });

  it('the console serves its pages and static files as an unprivileged user', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
    });
    const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--'] : [];
    const cmd = [...asNobody, process.execPath, path.join(x, 'usr/lib/director/console/console.mjs')];
    // the console's own file, as the unit has it read; state in a folder of the console's user
    const state = path.join(tmp, 'console-state');
    mkdirSync(state, { mode: 0o700 });
    if (asNobody.length) chownSync(state, 65534, 65534);
    const conf = path.join(tmp, 'console.toml');
    writeFileSync(conf, `listen = "127.0.0.1:${port}"\nstateDir = "${state}"\n[[agents]]\nid = "d1"\nname = "D1"\nurl = "http://127.0.0.1:9"\nviewerToken = "${'v'.repeat(32)}"\n`, { mode: 0o644 });
    const child = spawn(cmd[0]!, cmd.slice(1), {
      cwd: '/',
      env: cleanEnv({ NODE_ENV: 'production', HOME: '/nonexistent', DIRECTOR_CONSOLE_CONFIG: conf }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (b: Buffer) => { log += b; });
    child.stderr.on('data', (b: Buffer) => { log += b; });
    try {
      const deadline = Date.now() + 30_000;
      while (!log.includes('director console: http://') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
      expect(log, log).toContain(`director console: http://127.0.0.1:${port} (production, ${conf}), 1 director(s): d1`);
      const page = await fetch(`http://127.0.0.1:${port}/login`);
      expect(page.status).toBe(200);
      const html = await page.text();
      const asset = /\/_next\/static\/[^"]+\.js/.exec(html)?.[0];
      expect(asset).toBeDefined();
      expect((await fetch(`http://127.0.0.1:${port}${asset}`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  }, 60_000);
});

// dpkg itself, in a private mount namespace where /etc, /var and /usr are overlays of this host's
// folders: the package really installs, is removed and purged, and the host never sees any of it.
describe('dpkg -i, -r and --purge in an overlay of this host', () => {
  it('install creates users and folders with their modes; -r keeps configuration and state; --purge removes them', (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip('needs root (a mount namespace with overlays)');
    if (sh('unshare', ['--mount', '--propagation', 'private', 'true']).code !== 0) return ctx.skip('no mount namespaces here (unshare --mount failed)');
    const ovl = path.join(tmp, 'overlay');
    for (const d of ['etc', 'var', 'usr']) for (const s of ['up', 'work']) mkdirSync(path.join(ovl, d, s), { recursive: true });
    const script = `set -e
for d in etc var usr; do mount -t overlay overlay -o lowerdir=/$d,upperdir=${ovl}/$d/up,workdir=${ovl}/$d/work /$d; done
cd /
dpkg -i ${deb} >/dev/null
echo "version: $(director --version)"
stat -c "mode %n %a %U %G" /etc/director /etc/director/agent.toml /etc/director/console.toml /etc/director/checks.d /var/lib/director /var/lib/director-console
echo "passwd: $(getent passwd director director-console director-check | cut -d: -f1,6,7 | tr '\\n' ' ')"
echo "groups: director: $(id -nG director), director-check: $(id -nG director-check)"
echo "verify: $(systemd-analyze verify /usr/lib/systemd/system/director-agent.service /usr/lib/systemd/system/director-checks.service /usr/lib/systemd/system/director-console.service 2>&1)"
echo "# edited" >> /etc/director/agent.toml
touch /var/lib/director/journal
dpkg -r director >/dev/null
echo "after -r: program $(ls -d /usr/lib/director /usr/bin/director /usr/lib/systemd/system/director-agent.service /usr/lib/systemd/system/director-console.service 2>/dev/null | wc -l), config '$(tail -1 /etc/director/agent.toml)', state $(ls /var/lib/director), users $(getent passwd director director-console | wc -l)"
dpkg --purge director >/dev/null
echo "after --purge: $(ls -d /etc/director /var/lib/director /var/lib/director-console 2>/dev/null | wc -l) folders, $(getent passwd director director-console director-check | wc -l) users, $(getent group director director-console director-check | wc -l) groups"
`;
    const r = sh('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`version: director ${version}\n`);
    for (const line of [
      'mode /etc/director 755 root root', 'mode /etc/director/agent.toml 640 root director',
      'mode /etc/director/console.toml 640 root director-console', 'mode /etc/director/checks.d 755 root root',
      'mode /var/lib/director 700 director director', 'mode /var/lib/director-console 700 director-console director-console',
      'passwd: director:/var/lib/director:/usr/sbin/nologin director-console:/var/lib/director-console:/usr/sbin/nologin director-check:/nonexistent:/usr/sbin/nologin ',
      'groups: director: director director-check, director-check: director-check\n',
      'verify: \n',
      "after -r: program 0, config '# edited', state journal, users 2",
      'after --purge: 0 folders, 0 users, 0 groups',
    ]) expect(r.out, r.out).toContain(line);
    // and the host saw nothing
    expect(sh('getent', ['passwd', 'director']).code).not.toBe(0);
    expect(sh('dpkg-query', ['-W', 'director']).code).not.toBe(0);
  });
});
