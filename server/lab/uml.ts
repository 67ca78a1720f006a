/**
 * Boots Debian's user-mode Linux kernel (which has real IPVS) as an ordinary
 * process, runs one command inside it as root with the project visible, and
 * cleans up after itself whatever happens.
 *
 * The guest's root is the host's own tree mounted read-only (hostfs); the
 * guest only writes to its own tmpfs and to one per-run host folder we mount
 * into it (/run/out), so a run can never modify host paths.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ShimBuildError, xstateShim } from './xstate-shim';
import { nextLabCpu, TASKSET } from './cpu-pin';

export const UML_BINARY = '/usr/bin/linux.uml';
export const UML_MODULES_ROOT = '/usr/lib/uml/modules';

/** Every module the lab needs: IPVS with every scheduler and the PE, and what the topologies use. */
export const LAB_MODULES = [
  'ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_lc', 'ip_vs_wlc', 'ip_vs_lblc', 'ip_vs_lblcr', 'ip_vs_dh',
  'ip_vs_sh', 'ip_vs_sed', 'ip_vs_nq', 'ip_vs_fo', 'ip_vs_ovf', 'ip_vs_mh', 'ip_vs_pe_sip',
  'veth', 'bridge', 'dummy', 'ipip', 'ip_gre', 'fou', 'ip6_tunnel',
];

const BEGIN = '@@director-lab-begin@@';
const END = '@@director-lab-end@@';

export class LabUnavailableError extends Error {
  override readonly name = 'LabUnavailableError';
}

/** Says exactly what to install when the lab cannot run here. */
export function checkLabPrerequisites(): { modulesDir: string; preload: string | null } {
  const missing: string[] = [];
  if (!existsSync(UML_BINARY)) missing.push(`${UML_BINARY} (Debian package user-mode-linux)`);
  const modprobe = ['/usr/sbin/modprobe', '/sbin/modprobe'].find((p) => existsSync(p));
  if (!modprobe) missing.push('modprobe (Debian package kmod)');
  if (!existsSync('/usr/sbin/ipvsadm') && !existsSync('/sbin/ipvsadm')) missing.push('ipvsadm (Debian package ipvsadm)');
  if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip') && !existsSync('/bin/ip')) missing.push('ip (Debian package iproute2)');
  let modulesDir = '';
  if (existsSync(UML_MODULES_ROOT)) {
    const versions = readdirSync(UML_MODULES_ROOT);
    if (versions.length > 0) modulesDir = path.join(UML_MODULES_ROOT, versions.sort().at(-1)!);
  }
  if (!modulesDir && existsSync(UML_BINARY)) missing.push(`${UML_MODULES_ROOT}/<version> (reinstall user-mode-linux)`);
  let preload: string | null = null;
  if (missing.length === 0) {
    try { preload = xstateShim(); } catch (e) {
      if (e instanceof ShimBuildError) throw new LabUnavailableError(`the lab kernel cannot start: ${e.message}`);
      throw e;
    }
  }
  if (missing.length > 0) {
    throw new LabUnavailableError(
      `the lab kernel cannot start: missing ${missing.join(', ')}.\n` +
        `Install with: apt-get install -y user-mode-linux kmod ipvsadm iproute2`,
    );
  }
  return { modulesDir, preload };
}

export interface TapLink {
  /** host interface name, at most 15 characters */
  name: string;
  hostAddress: string;
  guestAddress: string;
  prefix: number;
}

export interface LabRunOptions {
  /** argv run inside the guest (as root, cwd = project root) */
  command: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** kill the guest after this long (default 10 minutes) */
  timeoutMs?: number;
  memoryMb?: number;
  /** host tap link to the guest's vec0 (for the console to reach the agent) */
  tap?: TapLink;
  /** called with each chunk the command prints (stdout and stderr interleaved, as on a terminal) */
  onOutput?: (chunk: string) => void;
  /** shell lines run inside the guest before the command (after modules are loaded) */
  setup?: string[];
  signal?: AbortSignal;
  /**
   * Called before the kernel boots with the run's folders: files put into
   * `outDir` appear read-write at /run/out in the guest (the folder is removed
   * when the run ends).
   */
  onPrepared?: (paths: { runDir: string; outDir: string; umid: string }) => void;
}

export interface LabRunResult {
  status: number;
  /** the command's output (the console between our markers) */
  output: string;
  /** everything the kernel console printed, for diagnosis */
  console: string;
  timedOut: boolean;
  durationMs: number;
}

const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The guest's own tmpfs on /tmp and /run hides the host's folders there; a
 * project checked out under them (CI clones often are) is mounted back,
 * read-only, at the same path.
 */
function keepVisible(dir: string): string {
  if (!/^\/(tmp|run)\//.test(dir)) return '';
  return `mkdir -p ${shQuote(dir)} && mount -r -t hostfs none ${shQuote(dir)} -o ${shQuote(dir)}`;
}

function initScript(o: {
  runDir: string; modulesDir: string; cwd: string; env: Record<string, string>;
  command: string[]; tap?: TapLink; setup: string[];
}): string {
  const kver = path.basename(o.modulesDir);
  const exports = Object.entries(o.env).map(([k, v]) => `export ${k}=${shQuote(v)}`).join('\n');
  const tapLines = o.tap
    ? [
        `ip link set vec0 up`,
        `ip addr add ${o.tap.guestAddress}/${o.tap.prefix} dev vec0`,
      ]
    : [];
  return `#!/bin/bash
# init of a Director lab kernel (generated; runs as PID 1 inside user-mode Linux)
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tmpfs run /run
ln -sf /proc/self/fd /dev/fd 2>/dev/null
${keepVisible(o.cwd)}
mkdir -p /run/out /run/m/lib/modules /run/netns /tmp/home
mount -t hostfs none /run/out -o ${o.runDir}/out
ln -s ${o.modulesDir} /run/m/lib/modules/${kver}
# one modprobe for all (each process start is expensive in the guest); name the missing ones on failure
modprobe -a -d /run/m ${LAB_MODULES.join(' ')} || for m in ${LAB_MODULES.join(' ')}; do
  modprobe -d /run/m "$m" || echo "lab: could not load module $m" >&2
done
ip link set lo up
${tapLines.join('\n')}
export HOME=/tmp/home PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DIRECTOR_LAB=1 NEXT_TELEMETRY_DISABLED=1 TERM=dumb
${exports}
cd ${shQuote(o.cwd)}
${o.setup.join('\n')}
echo ${BEGIN}
${o.command.map(shQuote).join(' ')} 2>&1
status=$?
echo "${END} $status"
echo $status > /run/out/status
sync
halt -f -d >/dev/null 2>&1 || echo o > /proc/sysrq-trigger
`;
}

/** Live guests of this process, killed on exit or Ctrl-C. */
const live = new Set<{ child: ChildProcess | null; umid: string; cleanup: () => void }>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const killAll = () => {
    for (const g of live) {
      if (g.child) {
        killGroup(g.child);
        // exit handlers cannot await: wait here until the kernel's processes are gone, or they
        // may still write into the run folder while it is being removed
        waitGuestGone(g.umid, 3000);
      }
      g.cleanup();
    }
    live.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

/**
 * Wait until no process of this guest runs. Matched by the umid on their
 * command lines: a killed group leader stays a zombie until node reaps it,
 * which cannot happen while an exit handler blocks, and zombies have none.
 */
function waitGuestGone(umid: string, timeoutMs: number): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (spawnSync('pgrep', ['-f', `umid=${umid} `], { stdio: 'ignore' }).status === 1) return;
    Atomics.wait(nap, 0, 0, 25);
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
}

/**
 * One lab per tap name on this machine: a second one would delete the first's
 * tap and take its addresses (two checkouts, or a test beside npm start). The
 * second waits for the first instead, named by its pid; a lock whose owner is
 * gone is taken over.
 */
export async function claimTap(name: string, signal?: AbortSignal, onWait?: (ownerPid: number) => void): Promise<() => void> {
  const lock = path.join(tmpdir(), `director-lab-tap-${name}.lock`);
  let told = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o644 });
      return () => {
        try { if (readFileSync(lock, 'utf8') === String(process.pid)) rmSync(lock, { force: true }); } catch { /* gone */ }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(readFileSync(lock, 'utf8').trim() || NaN);
    let alive = false;
    try { process.kill(owner, 0); alive = true; } catch (e) { alive = (e as NodeJS.ErrnoException).code === 'EPERM'; }
    if (!alive) {
      rmSync(lock, { force: true });
      continue;
    }
    if (!told) { onWait?.(owner); told = true; }
    if (signal?.aborted) throw new Error(`stopped while waiting for the lab of pid ${owner} to free the tap ${name}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function createTap(tap: TapLink): void {
  const run = (args: string[]) => {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`);
  };
  deleteTap(tap.name);
  run(['tuntap', 'add', 'dev', tap.name, 'mode', 'tap']);
  run(['addr', 'add', `${tap.hostAddress}/${tap.prefix}`, 'dev', tap.name]);
  run(['link', 'set', tap.name, 'up']);
}

export function deleteTap(name: string): void {
  spawnSync('ip', ['link', 'del', name], { stdio: 'ignore' });
}

/** Boot a lab kernel, run one command, tear everything down. */
export async function runInLab(opts: LabRunOptions): Promise<LabRunResult> {
  const { modulesDir, preload } = checkLabPrerequisites();
  installExitHandlers();
  const started = Date.now();
  const runDir = mkdtempSync(path.join(tmpdir(), 'director-lab-'));
  mkdirSync(path.join(runDir, 'out'));
  const umid = `director-${process.pid}-${randomBytes(4).toString('hex')}`;
  const initPath = path.join(runDir, 'init.sh');
  writeFileSync(initPath, initScript({
    runDir, modulesDir, cwd: opts.cwd ?? process.cwd(), env: opts.env ?? {},
    command: opts.command, tap: opts.tap, setup: opts.setup ?? [],
  }));
  chmodSync(initPath, 0o755);

  let tapCreated = false;
  let releaseTap: (() => void) | null = null;
  const cleanup = () => {
    if (tapCreated && opts.tap) deleteTap(opts.tap.name);
    tapCreated = false;
    releaseTap?.();
    releaseTap = null;
    rmSync(runDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  };

  const args = [
    `umid=${umid}`, `uml_dir=${runDir}`, `mem=${opts.memoryMb ?? 1024}M`,
    'root=/dev/root', 'rootfstype=hostfs', 'rootflags=/', 'ro', 'quiet',
    `init=${initPath}`, 'con=null', 'con0=fd:0,fd:1',
  ];
  const waiting = { child: null, umid, cleanup };
  try {
    opts.onPrepared?.({ runDir, outDir: path.join(runDir, 'out'), umid });
    if (opts.tap) {
      // registered first: Ctrl-C while waiting still removes the run folder (and a lock just taken)
      live.add(waiting);
      releaseTap = await claimTap(opts.tap.name, opts.signal, (pid) => {
        process.stderr.write(`lab: another lab kernel (pid ${pid}) has the tap ${opts.tap!.name}; waiting for it to stop\n`);
      });
      live.delete(waiting);
      createTap(opts.tap);
      tapCreated = true;
      args.push(`vec0:transport=tap,ifname=${opts.tap.name}`);
    }
  } catch (e) {
    live.delete(waiting);
    cleanup();
    throw e;
  }

  const env = preload ? { ...process.env, LD_PRELOAD: preload } : process.env;
  // pinned to one host CPU: see cpu-pin.ts (2-4 times faster here, and steadier)
  const cpu = nextLabCpu();
  const [command, argv] = cpu === null ? [UML_BINARY, args] : [TASKSET, ['-c', cpu, UML_BINARY, ...args]];
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
  const entry = { child, umid, cleanup };
  live.add(entry);

  let consoleText = '';
  let inside = false;
  let pending = '';
  let output = '';
  let endStatus: number | null = null;
  const onData = (buf: Buffer) => {
    const text = buf.toString('utf8').replace(/\r/g, '');
    consoleText += text;
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, nl + 1);
      pending = pending.slice(nl + 1);
      if (!inside) {
        if (line.startsWith(BEGIN)) inside = true;
        continue;
      }
      const end = line.indexOf(END);
      if (end !== -1) {
        // the command's last line may lack a newline, so the marker can share it
        if (end > 0) { output += line.slice(0, end); opts.onOutput?.(line.slice(0, end) + '\n'); }
        inside = false;
        endStatus = Number(line.slice(end + END.length).trim());
        continue;
      }
      output += line;
      opts.onOutput?.(line);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', (b: Buffer) => { consoleText += b.toString('utf8'); });

  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; killGroup(child); }, opts.timeoutMs ?? 600_000);
  const onAbort = () => killGroup(child);
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  await new Promise<void>((resolve) => child.once('close', () => resolve()));
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  // the guest's helper processes share the group; make sure none outlives the kernel
  killGroup(child);
  live.delete(entry);

  let status = endStatus ?? -1;
  const statusFile = path.join(runDir, 'out', 'status');
  if (endStatus === null && existsSync(statusFile)) status = Number(readFileSync(statusFile, 'utf8').trim());
  cleanup();
  if (timedOut) status = 124;
  return { status, output, console: consoleText, timedOut, durationMs: Date.now() - started };
}

/** Output of a failed boot, trimmed to what helps: the kernel lines near the end. */
export function describeFailure(r: LabRunResult): string {
  if (r.timedOut) return `the lab kernel timed out after ${Math.round(r.durationMs / 1000)} s`;
  const tail = r.console.split('\n').slice(-30).join('\n');
  return `the lab kernel ended with status ${r.status}; last console lines:\n${tail}`;
}
