/**
 * `npm start -- --lab --no-console` end to end: boots its own lab kernel
 * (several minutes on a busy machine), so it is not a unit test; run it with
 *   npx vitest run --config vitest.lab-start.config.ts
 * (the `lab-start` step of npm test). Needs root (tap link) and the lab kernel.
 * Talks to the agent only over the project's tap link (169.254.150.2).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client } from '../cli/commands/lab';
import { STATE_FILE_PATH, type StartState } from './state-file';
import { LAB_TOPOLOGY } from './guest/topology';

const root = path.resolve(import.meta.dirname, '../..');
const canRun = process.getuid?.() === 0 && existsSync('/usr/bin/linux.uml');
if (!canRun) console.warn('lab start test skipped: needs root and /usr/bin/linux.uml (apt-get install -y user-mode-linux)');

const RS1 = LAB_TOPOLOGY.realServers[0].address;
const RS2 = LAB_TOPOLOGY.realServers[1].address;
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

describe.skipIf(!canRun)('npm start -- --lab', () => {
  let child: ChildProcess;
  let output = '';
  let state: StartState;
  let api: ReturnType<typeof client>;
  let umlDir: string | null = null;

  beforeAll(async () => {
    // the README's command, as its own process group so SIGINT reaches npm, tsx and node as Ctrl-C would
    child = spawn('npm', ['start', '--', '--lab', '--no-console', '--rate', '4'], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => { output += b.toString(); });
    child.stderr!.on('data', (b: Buffer) => { output += b.toString(); });
    const ready = await until('DIRECTOR_READY', async () => {
      if (child.exitCode !== null) throw new Fatal(`npm start exited early:\n${output}`);
      return /^DIRECTOR_READY (.*)$/m.exec(output);
    }, 420_000);
    const info = JSON.parse(ready[1]!) as { agentUrl: string; stateFile: string; startupMs: number };
    console.log(`lab ready in ${(info.startupMs / 1000).toFixed(1)} s`);
    expect(info.stateFile).toBe(STATE_FILE_PATH);
    state = JSON.parse(readFileSync(STATE_FILE_PATH, 'utf8')) as StartState;
    expect(state.agentUrl).toBe('http://169.254.150.2:9580');
    api = client(state.agentUrl, state.operatorToken);
    const ps = spawnSync('pgrep', ['-af', `umid=director-${state.pid}-`], { encoding: 'utf8' }).stdout;
    umlDir = /uml_dir=(\S+)/.exec(ps)?.[1] ?? null;
    expect(umlDir).not.toBeNull();
  }, 480_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.pid) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  });

  it('answers lab.status with the seed topology and healthy parts', async () => {
    const s = await api.lab.status.query({ fresh: true });
    expect(s.topology.vip).toBe('192.168.150.100');
    expect(s.director).toEqual({ vipOnBr0: true, ipForward: 1 });
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
    const services = await api.services.list.query();
    const drSvc = services.find((v) => v.key.kind === 'addr' && v.key.address === LAB_TOPOLOGY.vip && v.key.port === 80)!;
    const conns = drSvc.destinations.map((d) => d.stats.conns);
    expect(conns).toHaveLength(2);
    expect(Math.min(...conns)).toBeGreaterThan(0);
    expect(Math.abs(conns[0]! - conns[1]!)).toBeLessThanOrEqual(1);
  }, 180_000);

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
    expect(spawnSync('ip', ['link', 'show', 'dlab0'], { stdio: 'ignore' }).status).not.toBe(0);
    expect(existsSync(STATE_FILE_PATH)).toBe(false);
    expect(existsSync(umlDir!)).toBe(false);
  }, 60_000);
});
