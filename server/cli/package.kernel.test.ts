import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipvsadm } from '../ipvs/kernel-test-helpers';

// The packaged `director list` (the .deb `npm run package` last built; npm test builds it in
// deploy/package.test.ts before the kernel tests), unpacked and run from / without the checkout,
// prints what `ipvsadm -Ln` prints for the same table.

const root = path.resolve(import.meta.dirname, '../..');
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
const arch = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout?.trim() ?? '';
const deb = path.join(root, 'dist', `director_${version}_${arch}.deb`);
const RULES = [
  '-A -t 10.0.0.1:80 -s rr',
  '-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 5 -x 100 -y 50',
  '-a -t 10.0.0.1:80 -r 200.1.1.1:80 -m -w 1',
  '-A -u 10.0.0.1:53 -s wlc -o',
  '-a -u 10.0.0.1:53 -r 192.168.1.20:53 -g -w 0',
  '-A -t [2001:db8::1]:80 -s mh -b mh-port',
  '-a -t [2001:db8::1]:80 -r [2001:db8::a]:8080 -m -w 2',
  '-A -f 7 -s wrr -p 360',
  '-a -f 7 -r 192.168.1.31:0 -i -w 1 --tun-type ipip',
];

describe.skipIf(!existsSync(deb))(`the packaged director list (${path.relative(root, deb)}; skipped when not built: npm run package)`, () => {
  let tmp = '';
  let director = '';
  beforeAll(() => {
    tmp = mkdtempSync('/tmp/director-pkg-');
    chmodSync(tmp, 0o755); // the unprivileged run below goes through it
    const x = path.join(tmp, 'root');
    const u = spawnSync('dpkg', ['-x', deb, x], { encoding: 'utf8' });
    expect(u.stderr).toBe('');
    // the packaged launcher, pointed at the unpacked tree instead of /usr/lib/director
    director = path.join(tmp, 'director');
    writeFileSync(director, readFileSync(path.join(x, 'usr/bin/director'), 'utf8').replaceAll('/usr/lib/director/', `${x}/usr/lib/director/`), { mode: 0o755 });
    ipvsadm('-C');
    const r = spawnSync('ipvsadm', ['-R'], { input: RULES.join('\n') + '\n', encoding: 'utf8' });
    expect(r.stderr).toBe('');
  });
  afterAll(() => {
    ipvsadm('-C');
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it.each([[[], ['-Ln']], [['--stats', '--exact'], ['-Ln', '--stats', '--exact']], [['--thresholds'], ['-Ln', '--thresholds']]])(
    'director list %j equals ipvsadm %j',
    (ours, theirs) => {
      const r = spawnSync(director, ['list', ...ours], { cwd: '/', encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } as unknown as NodeJS.ProcessEnv });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(ipvsadm(...theirs));
    },
  );

  // what director-agent.service gives it: an unprivileged user with ambient CAP_NET_ADMIN and nothing else
  it('runs as an unprivileged user with only CAP_NET_ADMIN, and says so without it', () => {
    const as = (caps: string[]) => spawnSync('setpriv', [
      '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all' + caps.map((c) => `,+${c}`).join(''),
      '--ambient-caps=-all' + caps.map((c) => `,+${c}`).join(''), '--bounding-set=-all' + caps.map((c) => `,+${c}`).join(''),
      '--', director, 'list',
    ], { cwd: '/', encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } as unknown as NodeJS.ProcessEnv });
    const ok = as(['net_admin']);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe(ipvsadm('-Ln'));
    const denied = as([]);
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toMatch(/director list: .*(permission|CAP_NET_ADMIN|EPERM)/i);
  });
});
