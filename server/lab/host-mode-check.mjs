/**
 * Inside the lab kernel, which stands in for a director whose own kernel has
 * IPVS (run by start.lab-test.ts; the checkout is read-only there): the
 * README's `npm start`, a service added behind its back with ipvsadm, what
 * the console then shows of it through its own sign-in and tRPC forwarding,
 * and what is left after Ctrl-C. Prints one line for the test to judge:
 *   HOST_MODE {json}
 *   DIRECTOR_LAB_PASSWORD=... node server/lab/host-mode-check.mjs PORT
 * (the operator's password: the lab stores only its hash)
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const port = Number(process.argv[2] ?? 3212);
const stateDir = '/run/director-host-mode';
const started = Date.now();
const result = { ms: {}, ready: null, output: '', state: null, login: null, me: null, services: null, ipvsadm: '', consoleUid: null, exit: null, left: null };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// its own process group, so the SIGINT below reaches npm and everything under it as Ctrl-C does
const child = spawn('npm', ['start', '--', '--port', String(port)], {
  detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DIRECTOR_STATE_DIR: stateDir },
});
child.stdout.on('data', (b) => { result.output += b; });
child.stderr.on('data', (b) => { result.output += b; });
const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));

/** The uid of the process whose command line contains `needle`, from /proc. */
function uidOf(needle) {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) continue;
      return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
    } catch { /* gone meanwhile */ }
  }
  return null;
}

try {
  const until = Date.now() + 300_000;
  while (Date.now() < until && child.exitCode === null && !/^DIRECTOR_READY /m.test(result.output)) await sleep(500);
  const m = /^DIRECTOR_READY (.*)$/m.exec(result.output);
  if (m) {
    result.ready = JSON.parse(m[1]);
    result.state = JSON.parse(readFileSync(path.join(stateDir, 'start.json'), 'utf8'));
    execFileSync('ipvsadm', ['-A', '-t', '10.20.30.40:80', '-s', 'wrr']);
    execFileSync('ipvsadm', ['-a', '-t', '10.20.30.40:80', '-r', '10.20.30.41:80', '-m', '-w', '3']);
    result.ipvsadm = execFileSync('ipvsadm', ['-Ln'], { encoding: 'utf8' });
    const url = result.ready.consoleUrl;
    result.login = (await fetch(`${url}/login`)).status;
    const signIn = await fetch(`${url}/api/session`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ username: 'operator', password: process.env.DIRECTOR_LAB_PASSWORD }),
    });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
    result.me = await (await fetch(`${url}/api/me`, { headers: { cookie } })).json();
    const id = result.me.directors?.[0]?.id;
    // the table as the kernel holds it now (a plain call may serve the agent's last sample, up to a minute old)
    const list = await fetch(`${url}/api/trpc/${id}/services.list?input=${encodeURIComponent(JSON.stringify({ maxAgeMs: 0 }))}`, { headers: { cookie } });
    result.services = (await list.json()).result?.data ?? null;
    result.consoleUid = uidOf('console.mjs');
  }
} catch (e) {
  result.error = e instanceof Error ? e.message : String(e);
} finally {
  result.ms.checked = Date.now() - started;
  try { process.kill(-child.pid, 'SIGINT'); } catch { /* gone */ }
  result.exit = await Promise.race([exited, sleep(60_000).then(() => 'still running after 60 s')]);
  // npm can exit before the start script under it has finished cleaning up
  for (let i = 0; i < 60 && uidOf('server/lab/start.ts') !== null; i++) await sleep(500);
  result.ms.stopped = Date.now() - started;
  result.left = {
    stateFile: existsSync(path.join(stateDir, 'start.json')),
    consoleFolders: readdirSync(tmpdir()).filter((n) => n.startsWith('director-console-')),
    processes: ['server/lab/start.ts', 'console.mjs', 'server/cli/main.ts'].filter((n) => uidOf(n) !== null),
  };
  execFileSync('ipvsadm', ['-C']);
  process.stdout.write(`HOST_MODE ${JSON.stringify(result)}\n`);
}
