/**
 * `director` in ipvsadm's syntax against ipvsadm itself, in the same lab kernel.
 *
 * Listings: real HTTP traffic through a NAT service fills the counters, the
 * rates and the connection table, then each listing is compared byte for byte
 * with ipvsadm's. Counters, rates (the kernel re-estimates them every 2 s) and
 * expiry times move between two calls, so a moving listing is read as a
 * sandwich: ipvsadm, director, ipvsadm; director's text must equal one of the
 * two ipvsadm texts exactly, and the sandwich is retried until ipvsadm's two
 * agree with each other or director matches one (a few tries at most).
 *
 * Writes (no agent runs in this kernel test, so they go straight to the
 * kernel): each command is run once with ipvsadm and once with director from
 * the same starting table, and the results read by ipvsadm must be the same.
 * Bad input: refused with exit 2, stderr names the option, the table untouched.
 *
 *   kc1 (client 192.168.161.200) ── kb1 bridge ── director (192.168.161.1, VIP 192.168.161.100 on kb1)
 *                                       └── kn1 (NAT real server 192.168.161.12:80; its replies go via .1
 *                                               by policy routing, though the client shares its LAN)
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { createTRPCClient, httpLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auth } from '../api/auth';
import type { AppRouter } from '../api/router';
import { startAgentServer, type AgentServer } from '../api/server';
import { openIpvs } from '../ipvs/open';
import { ipvsadm, sh } from '../ipvs/kernel-test-helpers';
import { BridgeLab, HTTP_OK_SERVER } from '../ipvs/bridge-lab';
import { procIpvsFile } from '../live/sampler';
import { TableHub } from '../live/hub';
import { Journal } from '../table/journal';
import { Mutex } from '../table/mutex';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { director } from './testing';

const run = promisify(execFile);
const VIP = '192.168.161.100';
const RS = '192.168.161.12';

const LAN = new BridgeLab({ bridge: 'kb1', net: '192.168.161', vip: VIP, hosts: { kc1: '192.168.161.200', kn1: RS } });
// NAT replies must go back through the director, though the client is on the same LAN: policy routing;
// and a veth pair for the sync daemon's interface
const SETUP = `${LAN.natReplies('kn1', 161)}
ip link del dsync9 2>/dev/null || true
ip link add dsync9 type veth peer name dsync8
ip link set dsync9 up; ip link set dsync8 up`;

// every option kind of the save format (as list.kernel.test.ts), so -Sn, --tun-info and the rest see them all
const RULES = [
  `-A -t ${VIP}:80 -s rr`,
  `-a -t ${VIP}:80 -r ${RS}:80 -m -w 1`,
  '-A -t 10.0.0.2:443 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port',
  '-a -t 10.0.0.2:443 -r 10.0.0.50:443 -g -w 1',
  '-A -u 10.0.0.1:53 -s wlc -o',
  '-a -u 10.0.0.1:53 -r 192.168.1.20:53 -g -w 0',
  '-A -u 10.0.0.4:5060 -s rr -p 30 --pe sip',
  '-A --sctp-service 10.0.0.3:3868 -s nq',
  '-a --sctp-service 10.0.0.3:3868 -r 192.168.1.50:3868 -m -w 1',
  '-A -t [2001:db8::1]:80 -s mh -b mh-port',
  '-a -t [2001:db8::1]:80 -r 192.168.1.40:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
  '-a -t [2001:db8::1]:80 -r 192.168.1.42:80 -i -w 1 --tun-type gre --tun-csum',
  '-a -t [2001:db8::1]:80 -r [2001:db8::a]:8080 -m -w 2',
  '-A -f 7 -s wrr -p 360',
  '-a -f 7 -r 192.168.1.30:0 -m -w 3',
  '-a -f 7 -r 192.168.1.31:0 -i -w 1 --tun-type ipip',
  '-A -f 9 -6 -s lc -p 100 -M 64',
  '-a -f 9 -6 -r [2001:db8::b]:0 -g -w 1',
];

function load(rules: readonly string[]): void {
  ipvsadm('-C');
  const r = spawnSync('ipvsadm', ['-R'], { input: rules.join('\n') + '\n', encoding: 'utf8' });
  expect(r.stderr).toBe('');
}

/** The whole observable state ipvsadm reads: rules (sorted: ipvsadm's order is arithmetic noise), timeouts, daemons. */
function state(): string {
  return [ipvsadm('-Sn').split('\n').filter(Boolean).sort().join('\n'), ipvsadm('-L', '--timeout'), ipvsadm('-L', '--daemon')].join('\n--\n');
}

/** director's text must be one of the ipvsadm texts read just before and just after it. */
async function sandwich(ours: string[], theirs: string[]): Promise<{ out: string; tries: number }> {
  let last = { before: '', out: '', after: '' };
  for (let tries = 1; tries <= 8; tries++) {
    const before = ipvsadm(...theirs);
    const r = await director(...ours);
    const after = ipvsadm(...theirs);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    if (r.out === before || r.out === after) return { out: r.out, tries };
    last = { before, out: r.out, after };
    // only a moving table excuses a difference: when ipvsadm read the same twice, director must have too
    if (before === after) break;
  }
  expect(last.out).toBe(last.before);
  return { out: last.out, tries: -1 };
}

/**
 * `-Lc` rows each count down on their own phase, so no single instant matches a whole listing:
 * every byte must equal ipvsadm's except the expiry column, which must lie between the values
 * ipvsadm read just before and just after director (the table is quiet: no rows come or go).
 */
async function connSandwich(args: string[]): Promise<string> {
  const before = ipvsadm(...args);
  const r = await director(...args);
  const after = ipvsadm(...args);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const [b, o, a] = [before, r.out, after].map((t) => t.split('\n'));
  expect(o!.length).toBe(b!.length);
  expect(a!.length).toBe(b!.length);
  expect(o!.slice(0, 2)).toEqual(b!.slice(0, 2));
  const secs = (l: string) => { const [m, s] = l.slice(4, 9).split(':').map(Number); return m! * 60 + s!; };
  const rest = (l: string) => l.slice(0, 4) + l.slice(9);
  for (let i = 2; i < o!.length; i++) {
    expect(rest(o![i]!), `row ${i}`).toBe(rest(b![i]!));
    expect(rest(a![i]!), `row ${i}`).toBe(rest(b![i]!));
    if (o![i] === '') continue;
    expect(secs(o![i]!), `row ${i} expiry`).toBeLessThanOrEqual(secs(b![i]!));
    expect(secs(o![i]!), `row ${i} expiry`).toBeGreaterThanOrEqual(secs(a![i]!));
  }
  return r.out;
}


beforeAll(async () => {
  LAN.up(SETUP);
  load(RULES);
  await LAN.spawnNode('kn1', HTTP_OK_SERVER);
  // traffic: counters, rates and connection entries (TIME_WAIT after each closed request) to list
  expect(await requests(20)).toBe(20);
}, 120_000);

/** n HTTP requests from the client to the NAT service; how many were answered. */
async function requests(n: number): Promise<number> {
  const { stdout } = await run('ip', ['netns', 'exec', 'kc1', 'bash', '-c',
    `n=0; for i in $(seq ${n}); do curl -sf --max-time 5 http://${VIP}/ >/dev/null && n=$((n+1)); done; echo $n`]);
  return Number(stdout.trim());
}

const stopDaemons = () => spawnSync('bash', ['-c', 'ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup; true']);

afterAll(() => {
  spawnSync('bash', ['-c', 'ipvsadm -C; ipvsadm --set 900 120 300; ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup; true']);
  LAN.down();
  sh('ip link del dsync9 2>/dev/null || true');
});

describe('director listings in ipvsadm syntax against ipvsadm', () => {
  it('director -Lcn prints what ipvsadm -Lcn prints', async () => {
    const out = await connSandwich(['-Lcn']);
    // the traffic's entries are there: not two empty listings that agree
    expect(out.split('\n').filter((l) => l.includes(`${VIP}:80`)).length).toBeGreaterThanOrEqual(20);
    // spelled apart and with --persistent-conn (its PE columns)
    await connSandwich(['-L', '-c', '-n']);
    await connSandwich(['-Lcn', '--persistent-conn']);
  });

  it.each([
    [['-Ln', '--stats']], [['-Ln', '--stats', '--exact']], [['-Ln', '--rate']], [['-Ln', '--rate', '--exact']],
  ])('director %j prints what ipvsadm prints, with counters that moved', async (args) => {
    const { out } = await sandwich(args, args);
    // the NAT service carried the traffic: its line is not all zeros
    const line = out.split('\n').find((l) => l.startsWith(`TCP  ${VIP}:80`))!;
    if (args.includes('--stats')) expect(line.trim().split(/\s+/)[2]).not.toBe('0');
  });

  it.each([
    [['-Sn']], [['-S', '-n']], [['-Ln']], [['-l', '-n']], [['-Ln', '--thresholds']], [['-Ln', '--persistent-conn']],
    [['-Ln', '--tun-info']], [['-Ln', '--nosort']], [['-Ln', '--timeout']], [['-L', '--daemon']],
    [['-L', '-n', '-t', `${VIP}:80`]], [['-L', '-n', '-f', '9', '-6']],
  ])('director %j prints exactly what ipvsadm prints', async (args) => {
    // nothing here moves except ActiveConn/InActConn as entries expire: the sandwich covers those
    await sandwich(args, args);
  });
});

describe('director writes in ipvsadm syntax have ipvsadm\'s effect (no agent: straight to the kernel)', () => {
  const BASE = [
    `-A -t ${VIP}:80 -s rr`, `-a -t ${VIP}:80 -r ${RS}:80 -m -w 1`,
    '-A -u 10.0.0.1:53 -s wlc', '-a -u 10.0.0.1:53 -r 192.168.1.20:53 -g -w 2',
  ];
  it.each([
    ['-A -t 10.9.9.9:443 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port'],
    ['-A -f 12 -6 -s lc -p -M 64'],
    [`-E -t ${VIP}:80 -s wrr -p 30`],
    ['-D -u 10.0.0.1:53'],
    [`-a -t ${VIP}:80 -r 192.168.161.13:8080 -m -w 5 -x 100 -y 50`],
    [`-a -t ${VIP}:80 -r 192.168.161.14:9999`],
    ['-a -u 10.0.0.1:53 -r 192.168.1.40 -i --tun-type gue --tun-port 6080 --tun-remcsum'],
    [`-e -t ${VIP}:80 -r ${RS}:80 -m -w 0`],
    ['-e -u 10.0.0.1:53 -r 192.168.1.20:53 -i --tun-type gre --tun-csum'],
    [`-d -t ${VIP}:80 -r ${RS}:80`],
    ['-C'],
    ['--set 1000 77 40'],
    ['--set 0 60 0'],
    ['--start-daemon master --mcast-interface dsync9 --syncid 7 --mcast-group 239.1.1.1 --mcast-port 9000 --mcast-ttl 2 --sync-maxlen 1400'],
    ['--start-daemon backup --mcast-interface dsync9 --syncid 8'],
  ])('director %s', async (line) => {
    const args = line.split(' ');
    const reset = () => {
      load(BASE);
      spawnSync('bash', ['-c', 'ipvsadm --set 900 120 300; ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup; true']);
    };
    reset();
    ipvsadm(...args);
    const theirs = state();
    reset();
    const before = state();
    const r = await director(...args);
    expect(r.err).toMatch(/directly in the kernel/);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
    const ours = state();
    expect(ours).toBe(theirs);
    // and the command did change something
    expect(ours).not.toBe(before);
  });

  it('--stop-daemon stops what --start-daemon started', async () => {
    stopDaemons();
    ipvsadm('--start-daemon', 'master', '--mcast-interface', 'dsync9', '--syncid', '3');
    expect(ipvsadm('-L', '--daemon')).toContain('master sync daemon (mcast=dsync9, syncid=3');
    const r = await director('--stop-daemon', 'master');
    expect(r.code).toBe(0);
    expect(ipvsadm('-L', '--daemon')).toBe('');
  });

  it('-Z zeroes one service\'s counters, then all', async () => {
    stopDaemons();
    load(BASE);
    // the kernel sums its per-CPU counters into what it reports every 2 s (the estimator): poll
    const conns = () => {
      const line = ipvsadm('-Ln', '--stats', '--exact').split('\n').find((l) => l.startsWith(`TCP  ${VIP}:80`))!;
      return Number(line.trim().split(/\s+/)[2]);
    };
    const settled = { timeout: 8000, intervals: [250] };
    expect(await requests(3)).toBe(3);
    await expect.poll(conns, settled).toBe(3);
    const r = await director('-Z', '-u', '10.0.0.1:53');
    expect(r.code).toBe(0);
    await new Promise((res) => setTimeout(res, 2500));
    expect(conns()).toBe(3);
    expect((await director('-Z', '-t', `${VIP}:80`)).code).toBe(0);
    await expect.poll(conns, settled).toBe(0);
    expect(await requests(1)).toBe(1);
    await expect.poll(conns, settled).toBe(1);
    expect((await director('-Z')).code).toBe(0);
    await expect.poll(conns, settled).toBe(0);
  });

  it.each([
    [`-a -t ${VIP}:80 -r 192.168.161.20 -w 99999999999`, '-w 99999999999'],
    [`-a -t ${VIP}:80 -r 192.168.161.20 -m -y 5`, '-y 5'],
    [`-A -t ${VIP}:81 -s roundrobin`, '-s roundrobin'],
    [`-E -t ${VIP}:80 -s rr -b sh-port`, '-b sh-port'],
    ['--set 900 abc 300', '--set abc'],
    ['--start-daemon master --mcast-interface dsync9 --syncid 256', '--syncid 256'],
    ['--start-daemon primary', '--start-daemon primary'],
    ['-C -t 10.0.0.1:80', '-t'],
    ['-Z -r 10.0.0.1', '-r'],
    [`-D -t ${VIP}:80 -x`, '-x'],
  ])('bad input %s names %s and changes nothing', async (line, option) => {
    load(BASE);
    const before = state();
    const r = await director(...line.split(' '));
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.startsWith(`director: ${option}`)).toBe(true);
    expect(r.err).toContain('nothing was changed');
    expect(state()).toBe(before);
  });

  it('a kernel refusal is reported and changes nothing', async () => {
    load(BASE);
    const before = state();
    const r = await director('-A', '-t', `${VIP}:80`, '-s', 'rr');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/already exists/);
    expect(state()).toBe(before);
  });
});

/**
 * With an agent running, the same ipvsadm-syntax writes go through it: the
 * CLI finds it the way an installed director does (the agent's TOML file
 * names where it listens and its state folder, whose tokens/operator.token
 * it reads), each write is one journal entry, and undo reverts it.
 */
describe('director writes in ipvsadm syntax through a running agent', () => {
  const TOKENS = { viewer: 'viewer_' + 'p'.repeat(40), operator: 'operator_' + 'P'.repeat(40) };
  const log = pino({ level: 'warn' }, pino.destination(2));
  let backend: IpvsBackend;
  let hub: TableHub;
  let srv: AgentServer;
  let dir: string;
  const env = { DIRECTOR_AGENT_CONFIG: process.env.DIRECTOR_AGENT_CONFIG, DIRECTOR_TOKEN_FILE: process.env.DIRECTOR_TOKEN_FILE };
  const api = () => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${srv.url}/trpc`, headers: { authorization: `Bearer ${TOKENS.operator}` } })] });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'parity-agent-'));
    mkdirSync(path.join(dir, 'tokens'));
    writeFileSync(path.join(dir, 'tokens', 'operator.token'), `${TOKENS.operator}\n`, { mode: 0o600 });
    backend = await openIpvs();
    hub = new TableHub({ backend, log, tickMs: 500, structure: procIpvsFile() });
    hub.start();
    srv = await startAgentServer({
      deps: { backend, hub, journal: await Journal.open(dir), writeLock: new Mutex(), log, conns: null, version: 'kernel-test', startedAt: Date.now() },
      auth: Auth.fromTokens(TOKENS, log),
      listen: { host: '127.0.0.1', port: 0 },
      allowOrigins: [],
    });
    const port = new URL(srv.url).port;
    writeFileSync(path.join(dir, 'agent.toml'), `listen = "127.0.0.1:${port}"\nstateDir = "${dir}"\n`);
    process.env.DIRECTOR_AGENT_CONFIG = path.join(dir, 'agent.toml');
    delete process.env.DIRECTOR_TOKEN_FILE;
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    await srv?.close();
    hub?.close();
    backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const BASE = [`-A -t ${VIP}:80 -s rr`, `-a -t ${VIP}:80 -r ${RS}:80 -m -w 1`, '-A -u 10.0.0.1:53 -s wlc'];

  it.each([
    ['-A -t 10.9.9.9:443 -s sh -p 600 -b sh-port', 'services.create'],
    [`-E -t ${VIP}:80 -s wrr -p 30`, 'services.update'],
    ['-D -u 10.0.0.1:53', 'services.remove'],
    [`-a -t ${VIP}:80 -r 192.168.161.13:8080 -m -w 5 -x 100 -y 50`, 'destinations.create'],
    [`-e -t ${VIP}:80 -r ${RS}:80 -m -w 0`, 'destinations.update'],
    [`-d -t ${VIP}:80 -r ${RS}:80`, 'destinations.remove'],
    ['-C', 'table.clear'],
    ['--set 1000 77 40', 'timeouts.set'],
    ['--start-daemon master --mcast-interface dsync9 --syncid 7 --mcast-port 9000', 'sync.start'],
  ])('director %s: ipvsadm\'s effect, one journal entry (%s), undone by undo', async (line, op) => {
    const args = line.split(' ');
    const reset = () => {
      load(BASE);
      spawnSync('bash', ['-c', 'ipvsadm --set 900 120 300; ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup; true']);
    };
    reset();
    ipvsadm(...args);
    const theirs = state();
    reset();
    const before = state();
    const last = (await api().journal.list.query({ limit: 1 }))[0]?.id ?? 0;
    const r = await director(...args);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(r.err).toMatch(new RegExp(`through the agent at http://127\\.0\\.0\\.1:\\d+, journal #${last + 1}\\n$`));
    expect(state()).toBe(theirs);
    const entries = await api().journal.list.query({ limit: 5 });
    expect(entries[0]).toMatchObject({ id: last + 1, op, state: 'done', role: 'operator' });
    await api().journal.undoEntry.mutate({ id: last + 1 });
    expect(state()).toBe(before);
  });

  it('-Z goes through the agent too; the journal says it cannot be undone by skipping it', async () => {
    load(BASE);
    const r = await director('-Z', '-t', `${VIP}:80`);
    expect(r.code).toBe(0);
    const [e] = await api().journal.list.query({ limit: 1 });
    expect(e).toMatchObject({ op: 'stats.zero', objects: [{ kind: 'counters', key: { address: VIP, port: 80 } }] });
  });

  it('a running agent is never gone around: with a token it refuses, nothing changes', async () => {
    load(BASE);
    const before = state();
    const bad = path.join(dir, 'wrong.token');
    writeFileSync(bad, 'operator_' + 'x'.repeat(40));
    process.env.DIRECTOR_TOKEN_FILE = bad;
    try {
      const r = await director('-C');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/token/i);
    } finally {
      delete process.env.DIRECTOR_TOKEN_FILE;
    }
    expect(state()).toBe(before);
    // and an unreadable token file: refused, not written to the kernel behind the agent's back
    process.env.DIRECTOR_TOKEN_FILE = path.join(dir, 'no-such.token');
    try {
      const r = await director('-D', '-t', `${VIP}:80`);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/cannot be read .*the change was not made/);
    } finally {
      delete process.env.DIRECTOR_TOKEN_FILE;
    }
    expect(state()).toBe(before);
  });

  it('bad input is refused before the agent is asked: no journal entry', async () => {
    load(BASE);
    const before = state();
    const last = (await api().journal.list.query({ limit: 1 }))[0]?.id;
    const r = await director('-a', '-t', `${VIP}:80`, '-r', '192.168.161.20', '-w', '-5');
    expect(r.code).toBe(2);
    expect(r.err.startsWith('director: -w')).toBe(true);
    expect(state()).toBe(before);
    expect((await api().journal.list.query({ limit: 1 }))[0]?.id).toBe(last);
  });
});
