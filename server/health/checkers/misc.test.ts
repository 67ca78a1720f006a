/**
 * Misc checks run only scripts from the checks folder, without a shell, as an
 * unprivileged user with no capabilities and a cleared environment (issue 23
 * #1 and #14). Real scripts in a real folder; each script reports what it
 * saw of its own process through its exit code.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiscRunner, privileges, resolveUser, setprivArgs, type MiscRunnerOptions } from './misc';
import { listScripts } from './scripts';

const ME = process.getuid!();
const ROOT = ME === 0;
const NOBODY = resolveUser('nobody');
const target = { family: 'inet' as const, address: '192.0.2.7', port: 8080 };

let base: string;
let dir: string;
/** set by scripts that should never run */
let ran: string;

const ZERO = '0000000000000000';
/** Exit 0 only when nothing of the agent's privilege, environment or working folder came along. */
const INSPECT = `#!/bin/sh
st=/proc/self/status
grep -q "^CapEff:[[:space:]]*${ZERO}$" $st || exit 10
grep -q "^CapPrm:[[:space:]]*${ZERO}$" $st || exit 11
grep -q "^CapAmb:[[:space:]]*${ZERO}$" $st || exit 12
if [ "$EXPECT_INH" = 0 ]; then grep -q "^CapInh:[[:space:]]*${ZERO}$" $st || exit 13; fi
# nothing can be raised again (setpriv ignores a refused ambient raise: look at the result)
[ -z "$(setpriv --inh-caps=+net_admin --ambient-caps=+net_admin grep -E '^Cap(Eff|Prm|Amb):.*[1-9a-f]' /proc/self/status 2>/dev/null)" ] || exit 22
if [ "$EXPECT_BND" = 0 ]; then grep -q "^CapBnd:[[:space:]]*${ZERO}$" $st || exit 14; fi
grep -q "^NoNewPrivs:[[:space:]]*1$" $st || exit 15
[ "$(id -u)" = "$EXPECT_UID" ] || exit 16
[ "$(id -G)" = "$EXPECT_GID" ] || exit 17
[ "$1 $2 $#" = "192.0.2.7 8080 2" ] || exit 18
[ "$DIRECTOR_RS_ADDRESS:$DIRECTOR_RS_PORT" = 192.0.2.7:8080 ] || exit 19
[ "$(env | grep -v -e '^PWD=' -e '^SHLVL=' -e '^_=' -e '^EXPECT_' | sort | tr '\\n' ' ')" = "DIRECTOR_RS_ADDRESS=192.0.2.7 DIRECTOR_RS_PORT=8080 PATH=/usr/sbin:/usr/bin:/sbin:/bin " ] || exit 20
[ "$(pwd)" = / ] || exit 21
exit 0
`;

/**
 * `deny all|ids PROGRAM ARGS...`: runs PROGRAM with no_new_privs and a seccomp filter refusing with EPERM
 * what systemd's ~@privileged refuses of setpriv's calls: the user switches, and with `all` capset too.
 */
const SECCOMP_DENY = `#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)
int main(int argc, char **argv) {
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    DENY(SYS_setuid), DENY(SYS_setgid), DENY(SYS_setreuid), DENY(SYS_setregid),
    DENY(SYS_setresuid), DENY(SYS_setresgid), DENY(SYS_setgroups), DENY(SYS_setfsuid), DENY(SYS_setfsgid),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_filter cap[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    DENY(SYS_capset),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
  struct sock_fprog capProg = { sizeof(cap) / sizeof(cap[0]), cap };
  if (argc < 3 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) { perror("seccomp"); return 111; }
  if (argv[1][0] == 'a' && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &capProg)) { perror("seccomp"); return 111; }
  execv(argv[2], argv + 2);
  perror("exec");
  return 112;
}
`;

function script(name: string, body: string, mode = 0o755, where = dir): string {
  const f = path.join(where, name);
  writeFileSync(f, body);
  chmodSync(f, mode);
  return f;
}

/** INSPECT with its expectations baked in (the environment is cleared, so they cannot come from there). */
function inspector(name: string, uid: number, gid: number, bnd: boolean, inh = true): void {
  script(name, INSPECT.replace('st=/proc/self/status', `st=/proc/self/status\nEXPECT_UID=${uid} EXPECT_GID=${gid} EXPECT_BND=${bnd ? 0 : 1} EXPECT_INH=${inh ? 0 : 1}`));
}

function runner(over: Partial<MiscRunnerOptions> = {}): MiscRunner {
  return new MiscRunner({
    dir, ownerUid: ME, runAs: ROOT ? NOBODY : null, canDropBounding: privileges().canDropBounding,
    maxConcurrent: 8, maxWaiting: 16, setpriv: '/usr/bin/setpriv', ...over,
  });
}

beforeAll(() => {
  base = mkdtempSync(path.join(tmpdir(), 'checks-'));
  chmodSync(base, 0o755);
  dir = path.join(base, 'checks.d');
  mkdirSync(dir, { mode: 0o755 });
  ran = path.join(base, 'ran');
  script('up', '#!/bin/sh\nexit 0\n');
  script('down', '#!/bin/sh\necho "db lagging\tbehind" >&2\nexit 1\n');
  script('long-note', `#!/bin/sh\nprintf '%0500d\\n' 0 >&2\nexit 1\n`);
  script('weight7', '#!/bin/sh\nexit 7\n');
  script('sleeper', '#!/bin/sh\nsleep 31.4159 &\nsleep 31.4159\n');
  script('slow', '#!/bin/sh\nsleep 0.3\nexit 0\n');
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('misc checks: what runs', () => {
  it('exit 0 is up, 1 is down with the first stderr line (control characters blanked, at most 200 characters)', async () => {
    const r = runner();
    expect(await r.run(target, { script: 'up', timeoutMs: 5000, dynamic: false })).toMatchObject({ ok: true, message: 'exit 0' });
    expect(await r.run(target, { script: 'down', timeoutMs: 5000, dynamic: false })).toMatchObject({ ok: false, message: 'exit 1: db lagging behind' });
    const long = await r.run(target, { script: 'long-note', timeoutMs: 5000, dynamic: false });
    expect(long.message).toBe(`exit 1: ${'0'.repeat(200)}`);
  });

  it('misc_dynamic: exit 2..255 is up with weight status-2; without it, down', async () => {
    const r = runner();
    expect(await r.run(target, { script: 'weight7', timeoutMs: 5000, dynamic: true })).toMatchObject({ ok: true, weight: 5 });
    expect((await r.run(target, { script: 'weight7', timeoutMs: 5000, dynamic: false })).ok).toBe(false);
  });

  it('kills a script that outlives its timeout, with what it started', async () => {
    const t0 = performance.now();
    const r = await runner().run(target, { script: 'sleeper', timeoutMs: 300, dynamic: false });
    expect(r).toMatchObject({ ok: false, message: 'script sleeper timed out after 0.3 s' });
    expect(performance.now() - t0).toBeLessThan(3000);
    await new Promise((res) => setTimeout(res, 100));
    // no sleeper left behind in any process group
    const left = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.trim() === 'sleep 31.4159');
    expect(left).toEqual([]);
  });

  it.skipIf(!ROOT)('runs as the check user with no capabilities, no environment but its target, in / (needs root to switch users)', async () => {
    inspector('inspect', NOBODY.uid, NOBODY.gid, true);
    const r = await runner().run(target, { script: 'inspect', timeoutMs: 5000, dynamic: false });
    expect(r).toMatchObject({ ok: true, message: 'exit 0' });
  });

  /**
   * The scene of the systemd unit: a node process as nobody with CAP_NET_ADMIN in its ambient,
   * permitted and effective sets (and, with `wrap`, under a seccomp filter like the unit's).
   */
  async function nonRootAgent(wrap: string[]): Promise<{ caps: string; p: { canSwitchUser: boolean }; res: { ok: boolean; message: string } }> {
    // the stand-in runs as nobody, who may not read this checkout (a clone under /root is 0700): it
    // gets misc.ts bundled into the world-readable test folder, and needs no tsx
    const bundle = path.join(base, 'misc-standin.mjs');
    buildSync({ entryPoints: [path.join(import.meta.dirname, 'misc.ts')], bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'error' });
    chmodSync(bundle, 0o644);
    const code = `
      const { MiscRunner, privileges, effectiveCaps } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
      const p = privileges();
      const r = new MiscRunner({ dir: ${JSON.stringify(dir)}, ownerUid: ${ME}, runAs: null, canDropBounding: p.canDropBounding,
        maxConcurrent: 1, maxWaiting: 1, setpriv: '/usr/bin/setpriv' });
      const res = await r.run({ family: 'inet', address: '192.0.2.7', port: 8080 }, { script: 'inspect-nonroot', timeoutMs: 5000, dynamic: false });
      console.log(JSON.stringify({ caps: effectiveCaps().toString(16), p, res }));
    `;
    const out = await new Promise<string>((resolve, reject) => {
      const c = spawn('/usr/bin/setpriv', [
        `--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', '--inh-caps=+net_admin', '--ambient-caps=+net_admin', '--',
        ...wrap, process.execPath, '--input-type=module', '-e', code,
      ], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
      let so = '', se = '';
      c.stdout.on('data', (d: Buffer) => { so += d.toString(); });
      c.stderr.on('data', (d: Buffer) => { se += d.toString(); });
      c.once('close', (st) => (st === 0 ? resolve(so) : reject(new Error(`agent stand-in exited ${st}: ${se}`))));
    });
    return JSON.parse(out.trim().split('\n').at(-1)!) as never;
  }

  it.skipIf(!ROOT)('an agent that is not root but holds ambient CAP_NET_ADMIN (the systemd unit) passes none of it on (needs root to set the scene)', async () => {
    inspector('inspect-nonroot', NOBODY.uid, NOBODY.gid, false);
    const seen = await nonRootAgent([]);
    expect(seen.caps).toBe('1000'); // the stand-in did hold CAP_NET_ADMIN
    expect(seen.p.canSwitchUser).toBe(false);
    expect(seen.res).toMatchObject({ ok: true, message: 'exit 0' });
  });

  it.skipIf(!ROOT || !existsSync('/usr/bin/cc'))('under a seccomp filter like the unit\'s: runs without capabilities when capset is allowed, is refused (never run with them) when not (needs root and cc)', async () => {
    inspector('inspect-nonroot', NOBODY.uid, NOBODY.gid, false);
    const src = path.join(base, 'deny.c');
    const bin = path.join(base, 'deny');
    writeFileSync(src, SECCOMP_DENY);
    execFileSync('cc', ['-O', '-o', bin, src]);
    chmodSync(bin, 0o755);
    // the filters are in force: user switches fail, and with `all` so does capset
    expect(() => execFileSync(bin, ['ids', '/usr/bin/setpriv', '--reuid=0', 'true'], { stdio: 'pipe' })).toThrow();
    expect(() => execFileSync(bin, ['all', '/usr/bin/setpriv', '--ambient-caps=-all', 'true'], { stdio: 'pipe' })).toThrow();
    execFileSync(bin, ['ids', '/usr/bin/setpriv', '--ambient-caps=-all', 'true'], { stdio: 'pipe' });
    const allowed = await nonRootAgent([bin, 'ids']);
    expect(allowed.caps).toBe('1000');
    expect(allowed.res).toMatchObject({ ok: true, message: 'exit 0' });
    const denied = await nonRootAgent([bin, 'all']);
    expect(denied.res).toMatchObject({ ok: false, refused: true, message: expect.stringMatching(/^script inspect-nonroot not run: setpriv: .*Operation not permitted$/) });
  });

  it('setpriv gets an argv array (no shell), every capability set emptied and no way back to privilege', () => {
    expect(setprivArgs({ runAs: { uid: 65534, gid: 65534 }, canDropBounding: true }, '/etc/director/checks.d/x', target)).toEqual([
      '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all', '--no-new-privs',
      '--', '/etc/director/checks.d/x', '192.0.2.7', '8080',
    ]);
    expect(setprivArgs({ runAs: null, canDropBounding: false }, '/etc/director/checks.d/x', target)).toEqual([
      '--inh-caps=-all', '--ambient-caps=-all', '--no-new-privs', '--', '/etc/director/checks.d/x', '192.0.2.7', '8080',
    ]);
  });

  it('caps concurrent runs: the rest wait their turn, and beyond the queue fail at once', async () => {
    const r = runner({ maxConcurrent: 2, maxWaiting: 2 });
    let peak = 0;
    const poll = setInterval(() => { peak = Math.max(peak, r.active); }, 5);
    const runs = Array.from({ length: 6 }, () => r.run(target, { script: 'slow', timeoutMs: 5000, dynamic: false }));
    const out = await Promise.all(runs);
    clearInterval(poll);
    expect(peak).toBeLessThanOrEqual(2);
    expect(out.filter((x) => x.ok)).toHaveLength(4);
    expect(out.filter((x) => !x.ok).map((x) => x.message)).toEqual([
      'too many checks running (2 at once, 2 waiting)', 'too many checks running (2 at once, 2 waiting)',
    ]);
  });
});

describe('misc checks: what is refused (and never runs)', () => {
  const refusedRun = async (r: MiscRunner, name: string) => {
    rmSync(ran, { force: true });
    const res = await r.run(target, { script: name, timeoutMs: 5000, dynamic: true });
    expect(existsSync(ran), `${name} ran`).toBe(false);
    expect(res.ok).toBe(false);
    return res.message;
  };
  const marker = `#!/bin/sh\ntouch ${'RAN'}\nexit 0\n`;

  beforeAll(() => {
    script('ok-marker', marker.replace('RAN', ran));
  });

  it('a script in a world-writable folder', async () => {
    const open = path.join(base, 'open.d');
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o777);
    script('x', marker.replace('RAN', ran), 0o755, open);
    expect(await refusedRun(runner({ dir: open }), 'x')).toMatch(/^not run: checks folder .*open\.d is group- or world-writable \(mode 0777\)$/);
  });

  it('a group- or world-writable script, one not executable by others, one set-user-ID', async () => {
    script('gw', marker.replace('RAN', ran), 0o775);
    expect(await refusedRun(runner(), 'gw')).toBe('not run: script gw is group- or world-writable (mode 0775)');
    script('private', marker.replace('RAN', ran), 0o750);
    expect(await refusedRun(runner(), 'private')).toMatch(/^not run: script private is not executable by others/);
    script('suid', marker.replace('RAN', ran), 0o4755);
    expect(await refusedRun(runner(), 'suid')).toMatch(/^not run: script suid is set-user-ID/);
  });

  it('a folder or script owned by someone else than the required owner', async () => {
    // the rule is "owned by root" in the agent; here the required owner is another uid than the files'
    expect(await refusedRun(runner({ ownerUid: ME + 1 }), 'ok-marker')).toMatch(/^not run: checks folder .* is owned by uid \d+, not \d+$/);
  });

  it.skipIf(!ROOT)('a script owned by another user in a good folder (needs root to chown)', async () => {
    const f = script('theirs', marker.replace('RAN', ran));
    chownSync(f, NOBODY.uid, NOBODY.gid);
    expect(await refusedRun(runner(), 'theirs')).toBe(`not run: script theirs is owned by uid ${NOBODY.uid}, not ${ME}`);
  });

  it('a symlink out of the folder; a name with a path; a missing script', async () => {
    const outside = script('outside', marker.replace('RAN', ran), 0o755, base);
    symlinkSync(outside, path.join(dir, 'escape'));
    expect(await refusedRun(runner(), 'escape')).toMatch(/^not run: script escape is a link to .*outside, outside /);
    expect(await refusedRun(runner(), '../outside')).toMatch(/^not run: script '\.\.\/outside' is not a file name$/);
    expect(await refusedRun(runner(), 'nope')).toMatch(/^not run: script nope: no such file in /);
  });

  it('a folder whose parent others can change', async () => {
    const loose = path.join(base, 'loose');
    mkdirSync(loose, { mode: 0o755 });
    chmodSync(loose, 0o777); // world-writable, not sticky: anyone could rename checks.d away
    const inner = path.join(loose, 'checks.d');
    mkdirSync(inner, { mode: 0o755 });
    script('x', marker.replace('RAN', ran), 0o755, inner);
    expect(await refusedRun(runner({ dir: inner }), 'x')).toMatch(/^not run: checks folder .*: its parent .*loose can be changed by others/);
  });

  it('lists the scripts with what would stop each', async () => {
    const l = await listScripts({ dir, ownerUid: ME });
    expect(l.problem).toBeUndefined();
    const byName = Object.fromEntries(l.scripts.map((s) => [s.name, s.problem ?? 'ok']));
    expect(byName).toMatchObject({ up: 'ok', 'ok-marker': 'ok', gw: 'script gw is group- or world-writable (mode 0775)' });
    expect(byName.escape).toMatch(/is a link to/);
  });
});
