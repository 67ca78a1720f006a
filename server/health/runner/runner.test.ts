/**
 * The check runner (director check-runner): a separate process, as its own
 * user, that runs misc-check scripts for the agent over a unix socket. Real
 * socket in a temp folder, real scripts in a folder that follows the checks
 * folder rules, as the misc checker's own tests do.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MiscRunner, privileges, resolveUser } from '../checkers/misc';
import { RunnerClient } from './client';
import { MAX_LINE } from './protocol';
import { startCheckRunner, type CheckRunner, type CheckRunnerOptions } from './server';

const ME = process.getuid!();
const ROOT = ME === 0;
const NOBODY = resolveUser('nobody');

/** `director check-runner` as one file in the test folder: the command module bundled, with processIo. */
function bundleCheckRunnerCli(): string {
  const entry = path.join(base, 'check-runner-entry.ts');
  const out = path.join(base, 'check-runner-cli.mjs');
  const here = (p: string) => JSON.stringify(path.resolve(import.meta.dirname, p));
  writeFileSync(entry, `import run from ${here('../../cli/commands/check-runner.ts')};
import { processIo } from ${here('../../cli/io.ts')};
process.exitCode = await run(process.argv.slice(3), processIo);
`);
  buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error', absWorkingDir: path.resolve(import.meta.dirname, '../../..') });
  chmodSync(out, 0o644);
  return out;
}
const target = { family: 'inet' as const, address: '192.0.2.7', port: 8080 };

let base: string;
let dir: string;
let n = 0;
const open: CheckRunner[] = [];

function script(name: string, body: string, mode = 0o755): void {
  const f = path.join(dir, name);
  writeFileSync(f, body);
  chmodSync(f, mode);
}

async function runner(over: Partial<CheckRunnerOptions> = {}): Promise<{ r: CheckRunner; socket: string }> {
  const socket = path.join(base, `s${n++}.sock`);
  const r = await startCheckRunner({ socket, dir, ownerUid: ME, maxConcurrent: 8, maxWaiting: 16, ...over });
  open.push(r);
  return { r, socket };
}

/** Sends raw bytes, returns the first answer line parsed (or null when the runner closes without one). */
function ask(socket: string, raw: string): Promise<Record<string, unknown> | null> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socket);
    let buf = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(raw));
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) { s.destroy(); resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>); }
    });
    s.on('error', reject);
    s.on('close', () => resolve(null));
  });
}
const req = (over: Record<string, unknown> = {}) => `${JSON.stringify({ id: 1, script: 'up', address: '192.0.2.7', port: 8080, timeoutMs: 5000, ...over })}\n`;

beforeAll(() => {
  base = mkdtempSync(path.join(tmpdir(), 'runner-'));
  chmodSync(base, 0o755);
  dir = path.join(base, 'checks.d');
  mkdirSync(dir, { mode: 0o755 });
  script('up', '#!/bin/sh\nexit 0\n');
  script('down', '#!/bin/sh\necho "db lagging\tbehind" >&2\nexit 1\n');
  script('weight7', '#!/bin/sh\nexit 7\n');
  script('args', '#!/bin/sh\n[ "$1 $2 $#" = "192.0.2.7 8080 2" ] || exit 3\n[ "$(pwd)" = / ] || exit 4\n[ "$(env | grep -v -e ^PWD= -e ^SHLVL= -e ^_= | sort | tr \'\\n\' \' \')" = "DIRECTOR_RS_ADDRESS=192.0.2.7 DIRECTOR_RS_PORT=8080 PATH=/usr/sbin:/usr/bin:/sbin:/bin " ] || exit 5\nexit 0\n');
  script('sleeper', '#!/bin/sh\nsleep 27.1828 &\nsleep 27.1828\n');
  script('slow', '#!/bin/sh\nsleep 0.3\nexit 0\n');
  script('gw', '#!/bin/sh\nexit 0\n', 0o775);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('check runner: the protocol', () => {
  it('runs a valid script with its target as argv, a cleared environment, in /, and answers its exit code', async () => {
    const { socket } = await runner();
    expect(await ask(socket, req())).toMatchObject({ id: 1, exitCode: 0, stderrFirstLine: '' });
    expect(await ask(socket, req({ id: 2, script: 'down' }))).toMatchObject({ id: 2, exitCode: 1, stderrFirstLine: 'db lagging behind' });
    expect(await ask(socket, req({ id: 3, script: 'args' }))).toMatchObject({ id: 3, exitCode: 0 });
  });

  it('refuses bad script names and scripts the folder rules refuse, without running them', async () => {
    const { socket } = await runner();
    expect(await ask(socket, req({ script: '../up' }))).toEqual({ id: 1, refused: "not run: script '../up' is not a file name", durationMs: expect.any(Number) });
    expect(await ask(socket, req({ script: 'gw' }))).toMatchObject({ id: 1, refused: 'not run: script gw is group- or world-writable (mode 0775)' });
    expect(await ask(socket, req({ script: 'nope' }))).toMatchObject({ refused: expect.stringMatching(/^not run: script nope: no such file in /) });
  });

  it('refuses non-JSON, requests outside the schema (named field), and lines over the bound (then hangs up)', async () => {
    const { socket } = await runner();
    expect(await ask(socket, 'rm -rf /\n')).toMatchObject({ id: null, refused: 'request is not JSON' });
    expect(await ask(socket, req({ address: '192.0.2.7; id' }))).toMatchObject({ id: 1, refused: expect.stringMatching(/^bad request: address: /) });
    expect(await ask(socket, req({ cmd: '/bin/sh' }))).toMatchObject({ id: 1, refused: expect.stringMatching(/^bad request: .*cmd/) });
    expect(await ask(socket, req({ timeoutMs: 0 }))).toMatchObject({ refused: expect.stringMatching(/^bad request: timeoutMs: /) });
    // one long line with its newline, and one that never ends: both refused, connection closed
    expect(await ask(socket, req({ script: 'x'.repeat(MAX_LINE) }))).toMatchObject({ refused: `request line longer than ${MAX_LINE} bytes` });
    expect(await ask(socket, 'y'.repeat(MAX_LINE * 4))).toMatchObject({ refused: `request line longer than ${MAX_LINE} bytes` });
  });

  it('caps concurrent runs: the rest wait their turn, beyond the queue refused at once', async () => {
    const { r, socket } = await runner({ maxConcurrent: 2, maxWaiting: 2 });
    let peak = 0;
    const poll = setInterval(() => { peak = Math.max(peak, r.active); }, 5);
    const out = await Promise.all(Array.from({ length: 6 }, (_, i) => ask(socket, req({ id: i, script: 'slow' }))));
    clearInterval(poll);
    expect(peak).toBe(2);
    expect(out.filter((a) => a?.exitCode === 0)).toHaveLength(4);
    expect(out.filter((a) => a?.refused).map((a) => a!.refused)).toEqual(['too many checks running (2 at once, 2 waiting)', 'too many checks running (2 at once, 2 waiting)']);
  });

  it('kills a script that outlives its timeout, with what it started; and one whose asker hangs up', async () => {
    const { socket } = await runner();
    const t0 = performance.now();
    expect(await ask(socket, req({ script: 'sleeper', timeoutMs: 300 }))).toMatchObject({ signal: 'SIGKILL', timedOut: true });
    expect(performance.now() - t0).toBeLessThan(3000);
    // hang up mid-run
    const s = net.createConnection(socket);
    s.write(req({ script: 'sleeper', timeoutMs: 60_000 }));
    await new Promise((res) => setTimeout(res, 300));
    s.destroy();
    await new Promise((res) => setTimeout(res, 300));
    const left = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.trim() === 'sleep 27.1828');
    expect(left).toEqual([]);
  });
});

describe('check runner: the agent side', () => {
  const direct = () => new MiscRunner({
    dir, ownerUid: ME, runAs: ROOT ? NOBODY : null, canDropBounding: privileges().canDropBounding, maxConcurrent: 8, maxWaiting: 16, setpriv: '/usr/bin/setpriv',
  });
  const strip = ({ durationMs: _, ...r }: { durationMs: number }) => r;

  it('a misc check through the runner gives what the direct path gives', async () => {
    const { socket } = await runner();
    const client = new RunnerClient(socket);
    const m = direct();
    const cases = [
      { script: 'up', timeoutMs: 5000, dynamic: false }, { script: 'down', timeoutMs: 5000, dynamic: false },
      { script: 'weight7', timeoutMs: 5000, dynamic: true }, { script: 'weight7', timeoutMs: 5000, dynamic: false },
      { script: 'sleeper', timeoutMs: 300, dynamic: false }, { script: 'gw', timeoutMs: 5000, dynamic: false },
      { script: 'nope', timeoutMs: 5000, dynamic: false }, { script: '../up', timeoutMs: 5000, dynamic: false },
    ];
    for (const c of cases) {
      const [viaRunner, viaDirect] = await Promise.all([client.run(target, c), m.run(target, c)]);
      expect(strip(viaRunner), c.script).toEqual(strip(viaDirect));
    }
    expect(strip(await client.run(target, cases[2]!))).toEqual({ ok: true, message: 'exit 7 (weight 5)', weight: 5 });
  });

  it('a runner that is not there: the check is refused with a clear message (refused checks move nothing)', async () => {
    const client = new RunnerClient(path.join(base, 'absent.sock'));
    expect(strip(await client.run(target, { script: 'up', timeoutMs: 5000, dynamic: false }))).toEqual({
      ok: false, refused: true, message: `misc check runner at ${path.join(base, 'absent.sock')} is not running`,
    });
  });
});

describe('check runner: the point of it', () => {
  let child: ChildProcess | null = null;
  afterAll(() => { child?.kill('SIGTERM'); });

  /**
   * A 0600 file stands in for the agent's tokens in /var/lib/director: owned by the agent's user (root
   * here). Through the direct path the script runs as the agent's user when the agent cannot switch
   * users (the shipped unit), and reads it; through the runner, started as its own user, it cannot.
   */
  it.skipIf(!ROOT)('a script cannot read the agent\'s 0600 secret through the runner (own user), but can as the agent\'s user (needs root to set users)', async () => {
    const state = path.join(base, 'state');
    mkdirSync(state, { mode: 0o755 });
    const secret = path.join(state, 'tokens.json');
    writeFileSync(secret, 'operator-token-stand-in\n', { mode: 0o600 });
    script('read-token', `#!/bin/sh\ncat ${secret} >/dev/null 2>&1 && { echo "read the token" >&2; exit 1; }\nexit 0\n`);
    const run = { script: 'read-token', timeoutMs: 5000, dynamic: false };
    // today's direct path as the agent's own user (runAs null: the unit's agent cannot switch users)
    const asAgent = await new MiscRunner({
      dir, ownerUid: ME, runAs: null, canDropBounding: privileges().canDropBounding, maxConcurrent: 1, maxWaiting: 1, setpriv: '/usr/bin/setpriv',
    }).run(target, run);
    expect(asAgent).toMatchObject({ ok: false, message: 'exit 1: read the token' });

    // the runner as its own user (nobody), started through the real CLI
    const sockDir = path.join(base, 'run');
    mkdirSync(sockDir, { mode: 0o700 });
    chownSync(sockDir, NOBODY.uid, NOBODY.gid);
    const socket = path.join(sockDir, 'checks.sock');
    // nobody may not read this checkout (a clone under /root is 0700): the CLI's check-runner command
    // runs from a bundle in the test's world-readable folder, as the package runs it from /usr/lib
    const cli = bundleCheckRunnerCli();
    const c = spawn(process.execPath, [cli, 'check-runner', '--socket', socket, '--checks-dir', dir], {
      uid: NOBODY.uid, gid: NOBODY.gid, cwd: '/', stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH, HOME: '/nonexistent' } as unknown as NodeJS.ProcessEnv,
    });
    child = c;
    let err = '';
    c.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const deadline = Date.now() + 30_000;
    while (!err.includes('listening on') && Date.now() < deadline && c.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    expect(err).toContain('listening on');
    // the runner checks the folder rules itself: owner root (the folder here is root's: we are root)
    const viaRunner = await new RunnerClient(socket).run(target, run);
    expect(viaRunner).toMatchObject({ ok: true, message: 'exit 0' });
    expect(existsSync(secret)).toBe(true);
  }, 60_000);

  it.skipIf(!ROOT)('the runner refuses to start as root (needs root)', () => {
    const repo = path.resolve(import.meta.dirname, '../../..');
    let out = '';
    try {
      execFileSync(process.execPath, [path.join(repo, 'bin/director.mjs'), 'check-runner', '--socket', path.join(base, 'root.sock')], { cwd: repo, stdio: 'pipe', env: { ...process.env, DIRECTOR_NO_BUNDLE: '1' } });
    } catch (e) {
      out = String((e as { stderr: Buffer }).stderr);
    }
    expect(out).toContain('refusing to run as root or with capabilities');
    expect(existsSync(path.join(base, 'root.sock'))).toBe(false);
  }, 30_000);
});
