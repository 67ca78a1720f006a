/**
 * `npm start`: the agent and the console, in one command.
 *
 *   npm start [-- --lab | --ha [master-master]] [--no-console] [--rate N] [--port N]
 *
 * --ha boots the lab with two directors (lvs1, lvs2: keepalived, a ZooKeeper
 * lease and connection sync; see server/lab/ha-lab.ts) and gives the
 * console both agents. `--ha master-master`: two VIP groups, lvs1 master of
 * one and lvs2 of the other, connections synced both ways, DNS in front.
 *
 * Without host IPVS (or with --lab) it boots the lab kernel with a tap link
 * (host 169.254.150.1/30, guest 169.254.150.2/30), builds the seed's LVS lab
 * inside it, runs the agent there as root and the console here. With host
 * IPVS and CAP_NET_ADMIN it runs the agent on 127.0.0.1 for this host.
 * Prints one progress line per step, then the console URL and the sign-in,
 * and a machine-readable line `DIRECTOR_READY {json}`. Ctrl-C stops all of
 * it and removes the tap, the lab's folders and the state file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleAgent } from './bundle';
import { STATE_FILE_PATH, type StartState } from './state-file';
import { DEFAULT_RATE, MAX_RATE } from '@/lib/lab/topology';
import { LabUnavailableError, describeFailure, runInLab, type TapLink } from './uml';
import { hostNeedsXstateShim } from './xstate-shim';
import { writeLabUsers, type SignIn } from './lab-users';
import { startHaLab } from './ha-lab';
import { PACKAGE_SETS, ensureDebianPackages } from '../../scripts/install.mjs';
import { assembleConsole } from '../../scripts/console-runtime.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const LAB_TAP: TapLink = { name: 'dlab0', hostAddress: '169.254.150.1', guestAddress: '169.254.150.2', prefix: 30 };
export const AGENT_PORT = 9580;
const STATE_FILE = STATE_FILE_PATH;


const started = Date.now();
// Passwords a caller chose for the lab's sign-ins (e2e): taken out of the environment
// at once, so no child process (agent, console, build) inherits them.
const LAB_PASSWORD_VARS = ['DIRECTOR_LAB_PASSWORD', 'DIRECTOR_LAB_VIEWER_PASSWORD', 'DIRECTOR_LAB_ADMIN_PASSWORD'];
const labPasswords: Record<string, string | undefined> = {};
for (const k of LAB_PASSWORD_VARS) {
  labPasswords[k] = process.env[k];
  delete process.env[k];
}
const say = (s: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${s}\n`);

function fail(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(1);
}

const isRoot = () => process.getuid?.() === 0;

/** CAP_NET_ADMIN (bit 12) in the effective set. */
function hasNetAdmin(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? (BigInt(`0x${m[1]}`) & (1n << 12n)) !== 0n : false;
}

function hostHasIpvs(): boolean {
  if (existsSync('/proc/net/ip_vs')) return true;
  return spawnSync('modprobe', ['ip_vs'], { stdio: 'ignore' }).status === 0 && existsSync('/proc/net/ip_vs');
}

/**
 * The lab's Debian packages (scripts/install.mjs installs the missing ones as
 * root, saying which). Host mode needs none: the agent speaks netlink itself.
 */
function ensurePrerequisites(lab: boolean, ha: boolean): void {
  if (!lab) return;
  const packages = [...PACKAGE_SETS.lab, ...(hostNeedsXstateShim() ? PACKAGE_SETS.xstateShim : []), ...(ha ? PACKAGE_SETS.ha : [])];
  if (!ensureDebianPackages(packages, { who: 'npm start', log: say })) fail('the lab cannot start without these packages');
}

/** Tokens in the agent's own format (auth.ts reads `<state>/tokens/<role>.token`). */
function writeTokens(stateDir: string): { viewerToken: string; operatorToken: string } {
  const dir = path.join(stateDir, 'tokens');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const make = (role: string) => {
    const token = `${role}_${randomBytes(32).toString('base64url')}`;
    writeFileSync(path.join(dir, `${role}.token`), `${token}\n`, { mode: 0o600 });
    return token;
  };
  return { viewerToken: make('viewer'), operatorToken: make('operator') };
}

function get(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, abort: AbortSignal): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!abort.aborted) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`${what} did not come up within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`stopped while waiting for ${what}`);
}

/** The newest source the Next build depends on, against the build's own id file. */
function nextBuildIsFresh(): boolean {
  const buildId = path.join(projectRoot, '.next', 'BUILD_ID');
  if (!existsSync(buildId)) return false;
  const builtAt = statSync(buildId).mtimeMs;
  const newer = (p: string): boolean => {
    if (!existsSync(p)) return false;
    const st = statSync(p);
    if (!st.isDirectory()) return st.mtimeMs > builtAt;
    return readdirSync(p).some((f) => f !== 'node_modules' && !f.startsWith('.') && newer(path.join(p, f)));
  };
  // the console runs from the standalone output (scripts/console-runtime.mjs); older builds lack it
  if (!existsSync(path.join(projectRoot, '.next', 'standalone', 'server.js'))) return false;
  return !['app', 'components', 'lib', 'next.config.js', 'postcss.config.mjs', 'package-lock.json']
    .some((p) => newer(path.join(projectRoot, p)));
}

const children = new Set<ChildProcess>();
function spawnChild(cmd: string, args: string[], opts: Parameters<typeof spawn>[2]): ChildProcess {
  const child = spawn(cmd, args, { ...opts, detached: true });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
function killChildren(): void {
  for (const c of children) {
    if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  children.clear();
}

function runNextBuild(): Promise<void> {
  const nextBin = createRequire(import.meta.url).resolve('next/dist/bin/next');
  return new Promise((resolve, reject) => {
    const child = spawnChild(process.execPath, [nextBin, 'build'], {
      cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`next build failed (exit ${code}):\n${out.split('\n').slice(-25).join('\n')}`))));
  });
}

interface ConsoleHandle { url: string; signIns: SignIn[] }

interface ConsoleAgent { url: string; viewerToken: string; operatorToken: string; name: string; id: string }

async function startConsole(agents: ConsoleAgent[],
  port: number, tmp: string, build: Promise<void> | null, abort: AbortSignal): Promise<ConsoleHandle> {
  if (build) {
    say('console: waiting for the Next build');
    await build;
    say('console: Next build done');
  }
  const usersFile = path.join(tmp, 'users.json');
  const signIns = await writeLabUsers(usersFile, labPasswords);
  // The console refuses root: run it as nobody, with its caches in our scratch folder. Nobody may not
  // be able to read the checkout (under /root, mode 0700), so it runs from a copy of its own in that
  // folder: Next's standalone output and the bundled console server, owned by root, readable by all.
  const app = path.join(tmp, 'app');
  const t0 = Date.now();
  const entry = await assembleConsole({ root: projectRoot, dest: app });
  say(`console: its own folder ${app} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const asUser = isRoot() ? { uid: 65534, gid: 65534 } : {};
  if (isRoot()) {
    chownSync(tmp, 65534, 65534);
    chownSync(usersFile, 65534, 65534);
  }
  const child = spawnChild(process.execPath, [entry], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...asUser,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      TMPDIR: tmp,
      HOME: tmp,
      NEXT_TELEMETRY_DISABLED: '1',
      DIRECTOR_AGENTS: JSON.stringify(agents.map((a) => ({ id: a.id, name: a.name, url: a.url, viewerToken: a.viewerToken, operatorToken: a.operatorToken }))),
      DIRECTOR_CONSOLE_USERS_FILE: usersFile,
      DIRECTOR_CONSOLE_USERS: '',
      // directors enrolled on the Directors page (agents.json) go beside the users, where nobody may write
      DIRECTOR_CONSOLE_STATE_DIR: tmp,
    },
  });
  let log = '';
  const keep = (b: Buffer) => { log = (log + b.toString()).slice(-8000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the console exited (status ${code}):\n${log}`))));
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([exited, waitFor('the console', async () => (await get(`${url}/login`, 2000)) > 0, 180_000, abort)]);
  // keep reporting a crash after start-up
  exited.catch((e: Error) => { say(e.message); });
  return { url, signIns };
}

const CONSOLE_TMP_PREFIX = 'director-console-';

/** The console folders (~45 MB each) of starts that were killed before they could remove them. */
function removeStaleConsoleFolders(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(new RegExp(`^${CONSOLE_TMP_PREFIX}(\\d+)-`).exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue; // alive, someone else's
    }
    rmSync(path.join(tmpdir(), name), { recursive: true, force: true });
  }
}

function writeStateFile(state: StartState): void {
  mkdirSync(path.dirname(STATE_FILE), { recursive: true, mode: 0o700 });
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2), { mode: 0o600 });
  chmodSync(STATE_FILE, 0o600);
}

function announce(state: StartState, lab: boolean, signIns: SignIn[]): void {
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (state.consoleUrl && signIns.length) {
    // The only place these passwords appear: the files hold their hashes.
    const what = { operator: 'operator: may change rules', viewer: 'viewer: read-only', admin: 'admin: may also manage users' };
    process.stdout.write(`\n  Director console: ${state.consoleUrl}\n`);
    signIns.forEach((u, i) => process.stdout.write(`  ${i === 0 ? 'sign in as:' : 'or as:     '}       ${u.username} / ${u.password}   (${what[u.role]})\n`));
  }
  if (state.agents && state.agents.length > 1) {
    for (const a of state.agents) process.stdout.write(`  agent ${a.id}:       ${a.url} (inside the lab kernel, through its port proxy)\n`);
  } else {
    process.stdout.write(`  agent:            ${state.agentUrl}${lab ? ' (inside the lab kernel)' : ''}\n`);
  }
  if (lab) process.stdout.write(`  lab controls:     npm run -s director -- lab status | lab rate N | lab fault rs2 stop-httpd on\n`);
  process.stdout.write(`  Ctrl-C stops everything.\n\n`);
  process.stdout.write(`DIRECTOR_READY ${JSON.stringify({
    mode: state.mode, agentUrl: state.agentUrl, consoleUrl: state.consoleUrl, stateFile: STATE_FILE, startupMs: Date.now() - started,
    ...(state.agents ? { ha: true, agents: state.agents.map((a) => ({ id: a.id, url: a.url })) } : {}),
  })}\n`);
}

/**
 * Claims the state file from the first moment (not only once ready): two
 * starts would fight over the one tap link and the one state file. Returns
 * the pid of a live owner, or null once the claim is ours.
 */
function claimStateFile(): number | null {
  mkdirSync(path.dirname(STATE_FILE), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(STATE_FILE, JSON.stringify({ pid: process.pid, mode: 'starting' }), { mode: 0o600, flag: 'wx' });
      return null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner: number | null = null;
    try {
      owner = (JSON.parse(readFileSync(STATE_FILE, 'utf8')) as { pid: number }).pid;
      process.kill(owner, 0);
      return owner;
    } catch {
      // left by a start that died without cleaning up
      rmSync(STATE_FILE, { force: true });
    }
  }
  return null;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      lab: { type: 'boolean', default: false },
      ha: { type: 'boolean', default: false },
      'no-console': { type: 'boolean', default: false },
      rate: { type: 'string', default: String(DEFAULT_RATE) },
      port: { type: 'string', default: '3000' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    // `--ha master-master`: the HA lab with two VIP groups, one master each, and DNS in front (issue #27)
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write('usage: npm start [-- --lab | --ha [master-master]] [--no-console] [--rate N] [--port N]\n');
    return;
  }
  if (positionals.length > (values.ha ? 1 : 0) || (positionals.length === 1 && positionals[0] !== 'master-master')) {
    fail(`unexpected argument${positionals.length > 1 ? 's' : ''} '${positionals.join(' ')}': only --ha takes one, master-master`);
  }
  const masterMaster = values.ha && positionals[0] === 'master-master';
  const rate = Number(values.rate);
  if (!Number.isFinite(rate) || rate < 0 || rate > MAX_RATE) fail(`--rate: expected 0 to ${MAX_RATE} requests per second per service, got '${values.rate}'`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port: expected a TCP port, got '${values.port}'`);

  // node_modules: installed by scripts/start.mjs, which runs this file (it needs tsx)
  say('checking the host kernel for IPVS');
  // HA mode needs two directors, so it always runs in the lab kernel
  const host = !values.lab && !values.ha && hostHasIpvs() && hasNetAdmin();
  const lab = !host;
  say(lab ? (values.ha ? 'HA mode: two directors in the lab kernel (--ha)' : values.lab ? 'using the lab kernel (--lab)' : 'this host has no usable IPVS: using the lab kernel') : 'this host has IPVS: managing it');
  ensurePrerequisites(lab, values.ha);
  if (lab && !isRoot()) fail('the lab needs root for its tap link (ip tuntap): run npm start as root');

  const other = claimStateFile();
  if (other !== null) fail(`another npm start is running (pid ${other}); stop it first (Ctrl-C there)`);
  const abort = new AbortController();
  mkdirSync(path.dirname(STATE_FILE), { recursive: true, mode: 0o700 });
  // tokens of the host mode's agent; the console's code and caches (readable by the console's own user)
  const scratch = mkdtempSync(path.join(path.dirname(STATE_FILE), 'start-'));
  removeStaleConsoleFolders();
  const consoleTmp = mkdtempSync(path.join(tmpdir(), `${CONSOLE_TMP_PREFIX}${process.pid}-`));
  let stopping = false;
  const cleanup = () => {
    killChildren();
    rmSync(scratch, { recursive: true, force: true });
    rmSync(consoleTmp, { recursive: true, force: true });
    try {
      const s = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as StartState;
      if (s.pid === process.pid) rmSync(STATE_FILE, { force: true });
    } catch { /* none */ }
  };
  process.on('exit', cleanup);
  // Exiting runs uml.ts's exit handler (kills the guest, removes the tap and its folder) and ours.
  // `on`, not `once`: Ctrl-C reaches npm, tsx and us, and tsx relays it again; a second signal with
  // no listener left would kill us in the middle of that cleanup.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      say(`stopping (${sig})`);
      abort.abort();
      cleanup();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }

  const wantConsole = !values['no-console'];
  let build: Promise<void> | null = null;
  if (wantConsole && !nextBuildIsFresh()) {
    say('console: building the Next app (missing or older than the sources), alongside the rest');
    build = runNextBuild();
    build.catch(() => { /* reported when awaited */ });
  }

  let state: StartState;
  let signIns: SignIn[] = [];
  let consoleAgents: ConsoleAgent[] | null = null;
  if (values.ha) {
    const ha = await startHaLab({
      projectRoot, rate, masterMaster, allowOrigin: `http://127.0.0.1:${port}`, signal: abort.signal,
      onStep: (s) => say(`lab: ${s}`),
      onOutput: (chunk) => {
        for (const line of chunk.split('\n')) if (!line.startsWith('@@lab-step') && /error|cannot|fatal|refus/i.test(line)) say(`lab says: ${line}`);
      },
    });
    ha.done.then((r) => {
      if (stopping) return;
      say(`the lab kernel stopped (status ${r.status}); ${describeFailure(r)}`);
      process.exit(1);
    }, (e: unknown) => fail(e instanceof LabUnavailableError ? e.message : (e as Error).message));
    const first = ha.agents[0]!;
    consoleAgents = ha.agents.map((a) => ({ id: a.id, name: a.name, url: a.url, viewerToken: a.viewerToken, operatorToken: a.operatorToken }));
    state = {
      pid: process.pid, mode: 'lab', agentUrl: first.url, consoleUrl: null, viewerToken: first.viewerToken, operatorToken: first.operatorToken,
      signIn: null, agents: ha.agents.map((a) => ({ id: a.id, url: a.url })),
    };
  } else if (lab) {
    say('lab: bundling the agent');
    const bundle = await bundleAgent(projectRoot);
    const agentUrl = `http://${LAB_TAP.guestAddress}:${AGENT_PORT}`;
    let tokens: { viewerToken: string; operatorToken: string } | null = null;
    let running = false;
    let guestLog = '';
    say(`lab: booting the lab kernel (tap ${LAB_TAP.name} ${LAB_TAP.hostAddress}/${LAB_TAP.prefix} <-> ${LAB_TAP.guestAddress})`);
    const guest = runInLab({
      command: ['bash', path.join(projectRoot, 'server/lab/guest/lab-main.sh'), bundle, `${LAB_TAP.guestAddress}:${AGENT_PORT}`,
        '/run/out/agent', String(rate), `http://127.0.0.1:${port}`],
      cwd: projectRoot,
      tap: LAB_TAP,
      memoryMb: 1024,
      timeoutMs: 2_000_000_000, // about 23 days: setTimeout takes at most 2^31-1 ms
      signal: abort.signal,
      onPrepared: ({ outDir }) => { tokens = writeTokens(path.join(outDir, 'agent')); },
      onOutput: (chunk) => {
        guestLog = (guestLog + chunk).slice(-20_000);
        for (const line of chunk.split('\n')) {
          const m = /^@@lab-step (.*)$/.exec(line);
          if (m) {
            say(`lab: ${m[1]}`);
            if (m[1] === 'lab: running') running = true;
          } else if (/error|cannot|fatal|refus/i.test(line)) {
            say(`lab says: ${line}`);
          }
        }
      },
    });
    guest.then((r) => {
      if (stopping) return;
      say(`the lab kernel stopped (status ${r.status}); ${describeFailure(r)}\n${guestLog.split('\n').slice(-20).join('\n')}`);
      process.exit(1);
    }, (e: unknown) => {
      fail(e instanceof LabUnavailableError ? e.message : (e as Error).message);
    });
    await waitFor('the lab', async () => running, 600_000, abort.signal);
    await waitFor('the agent', async () => (await get(`${agentUrl}/healthz`, 2000)) === 200, 600_000, abort.signal);
    say('lab: agent answering on the tap link');
    const t = tokens as { viewerToken: string; operatorToken: string } | null;
    if (!t) fail('internal: the lab started without tokens');
    state = { pid: process.pid, mode: 'lab', agentUrl, consoleUrl: null, ...t, signIn: null };
  } else {
    const stateDir = path.join(scratch, 'agent');
    const t = writeTokens(stateDir);
    const agentUrl = `http://127.0.0.1:${AGENT_PORT}`;
    // tsx as a loader in the agent's own process, not its CLI: that runs the code in a child node, and a node
    // flag given to it stays with it (--no-memory-reducer: see bin/director.mjs)
    const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    say('agent: starting on 127.0.0.1');
    const child = spawnChild(process.execPath, ['--no-memory-reducer', '--import', tsxLoader, path.join(projectRoot, 'server/cli/main.ts'), 'agent',
      '--listen', `127.0.0.1:${AGENT_PORT}`, '--state-dir', stateDir, '--allow-origin', `http://127.0.0.1:${port}`], {
      cwd: projectRoot, stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('exit', (code) => { if (!stopping) fail(`the agent exited (status ${code})`); });
    await waitFor('the agent', async () => (await get(`${agentUrl}/healthz`, 2000)) === 200, 120_000, abort.signal);
    state = { pid: process.pid, mode: 'host', agentUrl, consoleUrl: null, ...t, signIn: null };
  }

  if (wantConsole) {
    say(`console: starting on http://127.0.0.1:${port}`);
    const c = await startConsole(consoleAgents ?? [{ id: lab ? 'lab' : 'local', name: lab ? 'Lab director' : 'This host', url: state.agentUrl,
      viewerToken: state.viewerToken, operatorToken: state.operatorToken }], port, consoleTmp, build, abort.signal);
    state = { ...state, consoleUrl: c.url, signIn: { username: c.signIns[0]!.username }, viewerSignIn: { username: c.signIns[1]!.username } };
    signIns = c.signIns;
  }
  writeStateFile(state);
  announce(state, lab, signIns);
  // run until a signal: the handlers above stop everything
  await new Promise(() => {});
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
