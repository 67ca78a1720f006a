/**
 * The README's `npm start` end to end, from a clone under a 0700 folder (as
 * /root is): the lab with its console, then host mode with the lab kernel
 * standing in for a director whose own kernel has IPVS. Boots lab kernels
 * (minutes on a busy machine), so it is not a unit test; run it with
 *   npx vitest run --config vitest.lab-start.config.ts
 * (the `lab-start` step of npm test). Needs root (tap link) and the lab
 * kernel. Talks to the agent only over the project's tap link
 * (169.254.150.2) and to the console on 127.0.0.1.
 *
 * The clone holds this checkout as it is (uncommitted changes too) and a
 * copy of its node_modules when they match package-lock.json (5 s, against
 * npm ci's 15-20 s from the registry); otherwise it runs npm ci.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client } from '../cli/commands/lab';
import { type StartState } from './state-file';
import { LAB_TOPOLOGY } from '@/lib/lab/topology';
import { runInLab } from './uml';

const root = path.resolve(import.meta.dirname, '../..');
const canRun = process.getuid?.() === 0 && existsSync('/usr/bin/linux.uml');
if (!canRun) console.warn('lab start test skipped: needs root and /usr/bin/linux.uml (apt-get install -y user-mode-linux)');

const RS1 = LAB_TOPOLOGY.realServers[0].address;
const RS2 = LAB_TOPOLOGY.realServers[1].address;
const CONSOLE_PORT = 3211;
// the lab prints its generated passwords once and stores only hashes: the test chooses them
const PASSWORD = `lab-start-${randomBytes(9).toString('base64url')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An error `until` must not retry past (the process it waits for is gone). */
class Fatal extends Error {}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e instanceof Fatal) throw e;
      last = e;
    }
    await sleep(1000);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** True when `dir`'s node_modules is what `npm ci` would install from `lockDir`'s package-lock.json. */
function nodeModulesMatchLock(dir: string, lockDir: string): boolean {
  type Lock = { packages: Record<string, { version?: string; integrity?: string; optional?: boolean }> };
  try {
    const lock = (JSON.parse(readFileSync(path.join(lockDir, 'package-lock.json'), 'utf8')) as Lock).packages;
    const installed = (JSON.parse(readFileSync(path.join(dir, 'node_modules', '.package-lock.json'), 'utf8')) as Lock).packages;
    // npm's record leaves out optional packages for other platforms
    return Object.entries(lock).every(([k, p]) => k === '' || (installed[k] ? installed[k].version === p.version && installed[k].integrity === p.integrity : p.optional === true))
      && Object.keys(installed).every((k) => k in lock);
  } catch {
    return false;
  }
}

/** This checkout, as it is, cloned into a fresh 0700 folder. */
function cloneUnder0700(): { parent: string; clone: string } {
  const parent = mkdtempSync(path.join(tmpdir(), 'director-start-test-'));
  const clone = path.join(parent, 'director');
  execFileSync('git', ['clone', '-q', '--no-hardlinks', root, clone]);
  const diff = execFileSync('git', ['-C', root, 'diff', 'HEAD', '--binary'], { maxBuffer: 64 << 20 });
  if (diff.length > 0) execFileSync('git', ['-C', clone, 'apply', '--binary', '-'], { input: diff });
  const untracked = execFileSync('git', ['-C', root, 'ls-files', '--others', '--exclude-standard', '-z'], { encoding: 'utf8' })
    .split('\0').filter((f) => f && f !== 'node_modules');
  for (const f of untracked) {
    mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
    cpSync(path.join(root, f), path.join(clone, f));
  }
  if (nodeModulesMatchLock(root, clone)) {
    execFileSync('cp', ['-a', '--reflink=auto', `${path.join(root, 'node_modules')}/.`, path.join(clone, 'node_modules')]);
  } else {
    console.log('lab start test: node_modules differs from package-lock.json: npm ci in the clone');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: clone, stdio: 'inherit' });
  }
  return { parent, clone };
}

/** The pid of the process whose command line contains `needle` (pgrep -f), or null. */
function pidOf(needle: string): number | null {
  const r = spawnSync('pgrep', ['-f', '--', needle], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim().split('\n')[0]) : null;
}

let parent = '';
let clone = '';

describe.skipIf(!canRun)('npm start', () => {
  beforeAll(() => {
    ({ parent, clone } = cloneUnder0700());
  }, 300_000);

  afterAll(() => {
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  describe('the lab, from a clone under a 0700 folder', () => {
    let child: ChildProcess;
    let output = '';
    let state: StartState;
    let api: ReturnType<typeof client>;
    let umlDir: string | null = null;
    let consoleDir: string | null = null;

    beforeAll(async () => {
      expect(statSync(parent).mode & 0o777).toBe(0o700);
      // the README's command, as its own process group so SIGINT reaches npm, tsx and node as Ctrl-C would
      child = spawn('npm', ['start', '--', '--lab', '--rate', '4', '--port', String(CONSOLE_PORT)], {
        cwd: clone, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DIRECTOR_LAB_PASSWORD: PASSWORD },
      });
      child.stdout!.on('data', (b: Buffer) => { output += b.toString(); });
      child.stderr!.on('data', (b: Buffer) => { output += b.toString(); });
      const ready = await until('DIRECTOR_READY', async () => {
        if (child.exitCode !== null) throw new Fatal(`npm start exited early:\n${output}`);
        return /^DIRECTOR_READY (.*)$/m.exec(output);
      }, 480_000);
      const info = JSON.parse(ready[1]!) as { agentUrl: string; consoleUrl: string; stateFile: string; startupMs: number };
      console.log(`lab with its console ready in ${(info.startupMs / 1000).toFixed(1)} s (a fresh clone: the Next build included)`);
      expect(info.stateFile).toBe(path.join(clone, '.state', 'start.json'));
      state = JSON.parse(readFileSync(info.stateFile, 'utf8')) as StartState;
      expect(state.agentUrl).toBe('http://169.254.150.2:9580');
      expect(state.consoleUrl).toBe(`http://127.0.0.1:${CONSOLE_PORT}`);
      api = client(state.agentUrl, state.operatorToken);
      const ps = spawnSync('pgrep', ['-af', `umid=director-${state.pid}-`], { encoding: 'utf8' }).stdout;
      umlDir = /uml_dir=(\S+)/.exec(ps)?.[1] ?? null;
      expect(umlDir).not.toBeNull();
      consoleDir = /folder (\S+\/director-console-\d+-[^/\s]+)\/app ready/.exec(output)?.[1] ?? null;
      expect(consoleDir).not.toBeNull();
    }, 540_000);

    afterAll(async () => {
      if (child && child.exitCode === null && child.pid) {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      }
    });

    it('serves the console as nobody, from its own readable copy, with the folder still 0700', async () => {
      const url = state.consoleUrl!;
      expect((await fetch(`${url}/login`)).status).toBe(200);
      const signIn = await fetch(`${url}/api/session`, {
        method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ username: 'operator', password: PASSWORD }),
      });
      expect(signIn.status, await signIn.clone().text()).toBe(200);
      const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
      const services = await (await fetch(`${url}/api/trpc/lab/services.list`, { headers: { cookie } })).json() as { result: { data: { key: { address?: string } }[] } };
      expect(services.result.data.map((s) => s.key.address)).toContain(LAB_TOPOLOGY.vip);
      const pid = pidOf(`${consoleDir}/app/console.mjs`);
      expect(pid).not.toBeNull();
      expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\s+65534\s/m);
      expect(statSync(parent).mode & 0o777).toBe(0o700);
    }, 60_000);

    it('answers lab.status with the seed topology and healthy parts', async () => {
      const s = await api.lab.status.query({ fresh: true });
      expect(s.topology.vip).toBe('192.168.150.100');
      expect(s.director).toEqual({ vipOnBr0: true, ipForward: 1, faults: [] });
      for (const rs of s.realServers) {
        expect(rs, rs.name).toMatchObject({ vipOnLo: true, arpOk: true, natRoute: true, faults: [] });
        expect(rs.httpd.up, rs.httpd.detail).toBe(true);
      }
    }, 120_000);

    it('round-robins the DR service over both real servers, and NAT answers', async () => {
      const s = await until('traffic through DR and NAT', async () => {
        const t = (await api.lab.status.query()).traffic;
        const dr = t?.services.dr, nat = t?.services.nat;
        return dr && nat && (dr.byServer[RS1] ?? 0) >= 6 && (dr.byServer[RS2] ?? 0) >= 6 && nat.ok >= 6 ? t : null;
      }, 120_000);
      const dr = s.services.dr!;
      // rr alternates: the two counts differ only by requests still in flight
      expect(Math.abs((dr.byServer[RS1] ?? 0) - (dr.byServer[RS2] ?? 0))).toBeLessThanOrEqual(dr.inflight + 2);
      expect(s.services.nat!.byServer[RS1]).toBeGreaterThan(0);
      expect(s.services.nat!.byServer[RS2]).toBeGreaterThan(0);
      // the kernel's own counters agree: both DR destinations got connections, in turn
      // read now, not the hub's last sample: with nobody subscribed that can be older than the traffic
      const services = await api.services.list.query({ maxAgeMs: 0 });
      const drSvc = services.find((v) => v.key.kind === 'addr' && v.key.address === LAB_TOPOLOGY.vip && v.key.port === 80)!;
      const conns = drSvc.destinations.map((d) => d.stats.conns);
      expect(conns).toHaveLength(2);
      expect(Math.min(...conns)).toBeGreaterThan(0);
      expect(Math.abs(conns[0]! - conns[1]!)).toBeLessThanOrEqual(1);
    }, 180_000);

    it('stop-httpd on rs2: the lab\'s HTTP check quiesces it by itself, traffic moves to rs1; repaired, it is back', async () => {
      const rs2 = (s: Awaited<ReturnType<typeof api.lab.status.query>>) => s.realServers.find((r) => r.name === 'rs2')!;
      const drWeight = async () => (await api.services.list.query({ fresh: true }))
        .find((v) => v.key.kind === 'addr' && v.key.port === 80)!.destinations.find((d) => d.address === RS2)!.weight;
      expect(await drWeight()).toBe(1);
      const t0 = Date.now();
      const broken = await api.lab.fault.mutate({ server: 'rs2', fault: 'stop-httpd', on: true });
      expect(rs2(broken).httpd).toMatchObject({ up: false, detail: 'ECONNREFUSED' });
      // no operator: the check fails, the agent quiesces rs2 (weight 0) and journals it
      await until('the HTTP check to quiesce rs2', async () => (await drWeight()) === 0, 60_000);
      const outAfter = Date.now() - t0;
      const row = (await api.health.list.query({})).find((r) => r.service.kind === 'addr' && r.service.port === 80 && r.destination.address === RS2)!;
      expect(row.state).toBe('down');
      expect(row.message).toMatch(/refused/i);
      expect((await api.journal.list.query({ limit: 10 })).some((e) => e.op === 'health.down' && e.tokenName === 'health-check')).toBe(true);
      // traffic moves to rs1: after the quiesce, requests no longer fail
      const failedAt = (await api.lab.status.query()).traffic!.services.dr!.failed;
      const rs1At = (await api.lab.status.query()).traffic!.services.dr!.byServer[RS1] ?? 0;
      await until('rs1 to serve what rs2 did', async () => ((await api.lab.status.query()).traffic!.services.dr!.byServer[RS1] ?? 0) >= rs1At + 4, 60_000);
      // a request already sent to rs2 as it went out may still fail
      expect((await api.lab.status.query()).traffic!.services.dr!.failed).toBeLessThanOrEqual(failedAt + 1);
      const repaired = await api.lab.fault.mutate({ server: 'rs2', fault: 'stop-httpd', on: false });
      expect(rs2(repaired).httpd.up).toBe(true);
      await until('the HTTP check to bring rs2 back', async () => (await drWeight()) === 1, 60_000);
      const served = (await api.lab.status.query()).traffic!.services.dr!.byServer[RS2] ?? 0;
      await until('rs2 to serve the client again', async () => ((await api.lab.status.query()).traffic!.services.dr!.byServer[RS2] ?? 0) >= served + 2, 60_000);
      console.log(`lab health check: rs2 quiesced ${(outAfter / 1000).toFixed(1)} s after its httpd stopped`);
    }, 200_000);

    it('removing the VIP from rs2 piles up SYN_RECV for rs2; repairing clears them', async () => {
      const synRecv = async () => (await api.connections.list.query({
        destination: { family: 'inet', address: RS2, port: 80 }, state: 'SYN_RECV', limit: 1,
      })).total;
      const after = await api.lab.fault.mutate({ server: 'rs2', fault: 'remove-vip', on: true });
      expect(after.realServers.find((r) => r.name === 'rs2')!.vipOnLo).toBe(false);
      const piled = await until('SYN_RECV entries for rs2', async () => ((await synRecv()) >= 3 ? synRecv() : null), 90_000);
      expect(piled).toBeGreaterThanOrEqual(3);
      const repaired = await api.lab.fault.mutate({ server: 'rs2', fault: 'remove-vip', on: false });
      expect(repaired.realServers.find((r) => r.name === 'rs2')!.vipOnLo).toBe(true);
      // the client keeps retrying its SYNs, which now complete; entries of given-up attempts expire (60 s)
      await until('SYN_RECV for rs2 to clear', async () => (await synRecv()) === 0, 150_000);
    }, 330_000);

    it('Ctrl-C stops everything and leaves nothing behind', async () => {
      process.kill(-child.pid!, 'SIGINT');
      // npm can exit before the node process under it has finished cleaning up: wait for that one
      const alive = () => { try { process.kill(state.pid, 0); return true; } catch { return false; } };
      await until('npm start to exit', async () => !alive(), 45_000);
      expect(spawnSync('pgrep', ['-f', `umid=director-${state.pid}-`]).status).toBe(1);
      expect(pidOf(`${consoleDir}/app/console.mjs`)).toBeNull();
      // the tap is released, and gone unless a lab that waited for it (uml.ts claimTap) has made its own since
      const lock = path.join(tmpdir(), 'director-lab-tap-dlab0.lock');
      const holder = existsSync(lock) ? readFileSync(lock, 'utf8').trim() : null;
      expect(holder).not.toBe(String(state.pid));
      if (holder === null) expect(spawnSync('ip', ['link', 'show', 'dlab0'], { stdio: 'ignore' }).status).not.toBe(0);
      expect(existsSync(path.join(clone, '.state', 'start.json'))).toBe(false);
      expect(existsSync(umlDir!)).toBe(false);
      expect(existsSync(consoleDir!)).toBe(false);
      const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(parent) || l.includes('director-'));
      expect(mounts).toEqual([]);
    }, 60_000);
  });

  describe('on a host whose kernel has IPVS (the lab kernel standing in for it)', () => {
    it('manages that kernel: the console shows a service added there with ipvsadm; Ctrl-C leaves nothing', async () => {
      // the clone is read-only in there, and holds the console's build from the lab run above
      const r = await runInLab({
        command: ['node', 'server/lab/host-mode-check.mjs', '3212'], cwd: clone, timeoutMs: 480_000, env: { DIRECTOR_LAB_PASSWORD: PASSWORD },
      });
      const line = /^HOST_MODE (.*)$/m.exec(r.output)?.[1];
      if (!line) throw new Error(`no HOST_MODE line (status ${r.status}):\n${r.output.slice(-4000)}`);
      type Dest = { address: string; port: number; forward: string; weight: number };
      const h = JSON.parse(line) as {
        ready: { mode: string; startupMs: number } | null; output: string; error?: string; login: number | null; consoleUid: number | null;
        me: { directors: { id: string; role: string }[] } | null; ipvsadm: string; exit: unknown;
        services: { key: { address?: string; port?: number }; scheduler: string; destinations: Dest[] }[] | null;
        left: { stateFile: boolean; consoleFolders: string[]; processes: string[] }; ms: { checked: number; stopped: number };
      };
      expect(h.error, h.output).toBeUndefined();
      expect(h.ready?.mode, h.output).toBe('host');
      console.log(`host mode inside the lab kernel: ready in ${(h.ready!.startupMs / 1000).toFixed(1)} s, checked at ${h.ms.checked / 1000} s, `
        + `stopped at ${h.ms.stopped / 1000} s; the lab run took ${(r.durationMs / 1000).toFixed(1)} s`);
      expect(h.output).toContain('this host has IPVS: managing it');
      expect(h.ipvsadm).toMatch(/TCP {2}10\.20\.30\.40:80 wrr\n {2}-> 10\.20\.30\.41:80 +Masq +3 /);
      expect(h.login).toBe(200);
      expect(h.me?.directors.map((d) => [d.id, d.role])).toEqual([['local', 'operator']]);
      expect(h.services).toEqual([expect.objectContaining({
        key: expect.objectContaining({ address: '10.20.30.40', port: 80 }), scheduler: 'wrr',
        destinations: [expect.objectContaining({ address: '10.20.30.41', port: 80, forward: 'nat', weight: 3 })],
      })]);
      expect(h.consoleUid).toBe(65534);
      expect(h.left).toEqual({ stateFile: false, consoleFolders: [], processes: [] });
    }, 540_000);
  });
});
