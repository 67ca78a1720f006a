/**
 * The health API cannot be used as a shell or a scanner (issue 23 #1, #6):
 * through the real router on the stateful fake kernel, an operator's command
 * string is refused naming the field and runs nothing; checks aimed at the
 * director itself (loopback, link-local, unspecified) are refused unless the
 * agent allows them; checkNow is rate-limited per token. The table never moves.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TRPCError } from '@trpc/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceKey } from '@/lib/ipvs/model';
import { localTargetReason } from '@/lib/schemas/health';
import type { Identity } from '@/lib/auth/identity';
import type { AgentDeps } from '../api/context';
import { callerFor, makeDeps, OPERATOR, silentLog } from '../api/testing';
import type { FakeIpvs } from '../ipvs/fake';
import { HealthService, type HealthDeps, type RunCheck } from './service';

const SVC: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 80 };
const dest = (address: string, port = 80): DestinationSpec => ({
  family: address.includes(':') ? 'inet6' : 'inet', address, port, forward: address.includes(':') ? 'tun' : 'nat', weight: 2, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL },
});
const RS = dest('192.168.150.12');
const key = (d: DestinationSpec) => ({ family: d.family, address: d.address, port: d.port });

let dir: string;
let marker: string;
let deps: AgentDeps & { fake: FakeIpvs };
let health: HealthService;
const runs: string[] = [];
const scripted: RunCheck = async (d, c) => {
  runs.push(`${c.type} ${d.address}`);
  return { ok: true, message: 'ok', durationMs: 1 };
};

async function open(over: Partial<HealthDeps> = {}) {
  health?.stop();
  health = await HealthService.open({
    backend: deps.fake, writeLock: deps.writeLock, journal: deps.journal, log: silentLog, stateDir: dir, reloadMs: 0, runCheck: scripted, ...over,
  });
  deps.health = health;
}

async function refusal(p: Promise<unknown>): Promise<TRPCError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(TRPCError);
  return e as TRPCError;
}

const issuesOf = (e: TRPCError) => ((e.cause as { issues?: { path: PropertyKey[]; message: string }[] } | undefined)?.issues ?? [])
  .map((i) => ({ path: i.path.join('.'), message: i.message }));

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'health-hard-'));
  marker = path.join(dir, 'ran');
  runs.length = 0;
  deps = await makeDeps();
  await deps.fake.addService({ key: SVC, scheduler: 'wrr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null });
  for (const d of [RS, dest('127.0.0.1', 8080), dest('169.254.1.1'), dest('::1'), dest('::ffff:127.0.0.2')]) await deps.fake.addDestination(SVC, d);
  await open();
});

afterEach(async () => {
  health?.stop();
  deps.hub.close();
  await rm(dir, { recursive: true, force: true });
});

describe('misc checks take no command strings', () => {
  it('health.checkNow with a command (the old shape) is refused naming the field; nothing runs; the table is unchanged', async () => {
    await open({ runCheck: undefined });
    const before = await deps.fake.dump();
    const e = await refusal(callerFor(deps, OPERATOR).health.checkNow({
      service: SVC, destination: key(RS), check: { type: 'misc', command: `touch ${marker}` } as never,
    }));
    expect(e.code).toBe('BAD_REQUEST');
    expect(issuesOf(e)).toContainEqual({ path: 'check.command', message: expect.stringMatching(/^command strings are not accepted: a misc check names a script/) });
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(marker)).toBe(false);
    expect(await deps.fake.dump()).toEqual(before);
  });

  it('health.config.set with a command is refused naming the field; nothing is stored or run', async () => {
    await open({ runCheck: undefined });
    const e = await refusal(callerFor(deps, OPERATOR).health.config.set({
      config: { service: SVC, timing: { delayLoop: 0.1, warmup: 0 }, realServers: [{ destination: RS, checks: [{ type: 'misc', command: `touch ${marker}` } as never] }] },
    }));
    expect(e.code).toBe('BAD_REQUEST');
    expect(issuesOf(e).map((i) => i.path)).toContain('config.realServers.0.checks.0.command');
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(marker)).toBe(false);
    expect(health.getConfig()).toEqual([]);
    expect(existsSync(path.join(dir, 'health.json'))).toBe(false);
  });

  it('a stored health.json with a command check is refused at start, naming the field', async () => {
    health.stop();
    await writeFile(path.join(dir, 'health.json'), JSON.stringify({
      version: 1,
      services: [{ service: SVC, timing: { delayLoop: 0.1, warmup: 0 }, realServers: [{ destination: RS, checks: [{ type: 'misc', command: `touch ${marker}` }] }] }],
    }));
    await expect(open({ runCheck: undefined })).rejects.toThrow(/health\.json: services\.0\.realServers\.0\.checks\.0\.command: command strings are not accepted/);
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(marker)).toBe(false);
  });

  it('a script name that is a path or a command line is refused naming the field', async () => {
    for (const script of ['/bin/sh', '../x', 'check web', 'x;id', '']) {
      const e = await refusal(callerFor(deps, OPERATOR).health.checkNow({ service: SVC, destination: key(RS), check: { type: 'misc', script } }));
      expect(issuesOf(e).map((i) => i.path), script).toEqual(['check.script']);
    }
    expect(runs).toEqual([]);
  });
});

describe('checks never target the director itself unless the agent allows it', () => {
  const locals = [dest('127.0.0.1', 8080), dest('169.254.1.1'), dest('::1'), dest('::ffff:127.0.0.2')];

  it('knows loopback, link-local and unspecified addresses, in both families', () => {
    expect(['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1', '::127.0.0.1'].map(localTargetReason)).toEqual(Array(5).fill('a loopback address'));
    expect(['169.254.169.254', 'fe80::1', 'febf::1', '::ffff:169.254.0.1'].map(localTargetReason)).toEqual(Array(4).fill('a link-local address'));
    expect(['0.0.0.0', '::', '0.1.2.3'].map(localTargetReason)).toEqual(Array(3).fill('an unspecified address'));
    expect(['192.168.150.12', '10.0.0.1', 'fec0::1', '2001:db8::1', '::ffff:10.0.0.1', '128.0.0.1'].map(localTargetReason)).toEqual(Array(6).fill(null));
  });

  it('checkNow against a loopback, link-local or unspecified real server is refused, with or without a connect port; nothing runs', async () => {
    const op = callerFor(deps, OPERATOR);
    for (const d of locals) {
      for (const check of [undefined, { type: 'tcp' as const }, { type: 'tcp' as const, connectPort: 22 }, { type: 'http' as const, urls: [{ path: '/' }], connectPort: 9580 }]) {
        const e = await refusal(op.health.checkNow({ service: SVC, destination: key(d), check: check ?? { type: 'tcp' } }));
        expect(e.code, d.address).toBe('BAD_REQUEST');
        expect(e.message).toMatch(new RegExp(`^refusing to check ${d.address.replace(/[.:]/g, '\\$&')}: it is an? (loopback|link-local|unspecified) address, which reaches the director's own services \\(start the agent with --allow-local-checks`));
      }
    }
    expect(runs).toEqual([]);
  });

  it('config.set naming such a real server with checks is refused at its address field; nothing is stored', async () => {
    const e = await refusal(callerFor(deps, OPERATOR).health.config.set({
      config: { service: SVC, realServers: [{ destination: RS, checks: [{ type: 'tcp' }] }, { destination: dest('127.0.0.1', 8080), checks: [{ type: 'http', urls: [{ path: '/', regex: 'token' }] }] }] },
    }));
    expect(e.code).toBe('BAD_REQUEST');
    expect(e.message).toMatch(/refusing to check 127\.0\.0\.1: it is a loopback address/);
    expect(health.getConfig()).toEqual([]);
  });

  it('with --allow-local-checks the same checks run', async () => {
    await open({ allowLocalChecks: true });
    const r = await callerFor(deps, OPERATOR).health.checkNow({ service: SVC, destination: key(locals[0]!), check: { type: 'tcp' } });
    expect(r.ok).toBe(true);
    expect(runs).toEqual(['tcp 127.0.0.1']);
  });
});

describe('checkNow is rate-limited per token', () => {
  it('refuses the call past the limit with TOO_MANY_REQUESTS; another token is not affected', async () => {
    await open({ checkNowPerMinute: 5 });
    const alice: Identity = { role: 'operator', tokenName: 'alice' };
    const bob: Identity = { role: 'operator', tokenName: 'bob' };
    for (let i = 0; i < 5; i++) await callerFor(deps, alice).health.checkNow({ service: SVC, destination: key(RS), check: { type: 'tcp' } });
    const e = await refusal(callerFor(deps, alice).health.checkNow({ service: SVC, destination: key(RS), check: { type: 'tcp' } }));
    expect(e.code).toBe('TOO_MANY_REQUESTS');
    expect(e.message).toMatch(/^too many checkNow calls: at most 5 a minute per token; try again in \d+ s$/);
    expect(runs).toHaveLength(5);
    await callerFor(deps, bob).health.checkNow({ service: SVC, destination: key(RS), check: { type: 'tcp' } });
    expect(runs).toHaveLength(6);
  });

  it('the default limit is 20 a minute', async () => {
    const op = callerFor(deps, OPERATOR);
    let refusedAt = -1;
    for (let i = 0; i < 25 && refusedAt < 0; i++) {
      const e = await op.health.checkNow({ service: SVC, destination: key(RS), check: { type: 'tcp' } }).then(() => null, (x: unknown) => x as TRPCError);
      if (e) refusedAt = i;
    }
    expect(refusedAt).toBe(20);
  });
});

describe('a stored config the rules refuse moves nothing', () => {
  it('a loopback real server with checks in health.json, and a misc script that cannot run: no transition, no weight change', async () => {
    health.stop();
    await writeFile(path.join(dir, 'health.json'), JSON.stringify({
      version: 1,
      services: [{
        service: SVC, timing: { delayLoop: 0.1, warmup: 0, retry: 0 },
        realServers: [
          { destination: dest('127.0.0.1', 8080), checks: [{ type: 'tcp' }] },
          { destination: RS, checks: [{ type: 'misc', script: 'check-web' }] },
        ],
      }],
    }));
    const before = await deps.fake.dump();
    await open({ runCheck: undefined, checksDir: path.join(dir, 'no-such-folder') });
    await health.start();
    await new Promise((r) => setTimeout(r, 600));
    const rows = health.list();
    expect(rows.map((r) => [r.destinationId, r.state])).toEqual([['127.0.0.1:8080', 'unknown'], ['192.168.150.12:80', 'unknown']]);
    expect(rows[0]!.message).toMatch(/^refusing to check 127\.0\.0\.1: it is a loopback address/);
    expect(rows[1]!.message).toMatch(/^not run: checks folder .*no-such-folder: does not exist$/);
    expect(health.history({ limit: 10 })).toEqual([]);
    expect(await deps.fake.dump()).toEqual(before);
    expect(deps.journal.size).toBe(0);
  });
  it('a misc check through a check runner that is not running (--check-runner): a clear message, no transition, no weight change', async () => {
    health.stop();
    await writeFile(path.join(dir, 'health.json'), JSON.stringify({
      version: 1,
      services: [{ service: SVC, timing: { delayLoop: 0.1, warmup: 0, retry: 0 }, realServers: [{ destination: RS, checks: [{ type: 'misc', script: 'check-web', dynamic: true }] }] }],
    }));
    const before = await deps.fake.dump();
    const socket = path.join(dir, 'checks.sock');
    await open({ runCheck: undefined, checkRunner: socket });
    await health.start();
    await new Promise((r) => setTimeout(r, 600));
    const rows = health.list();
    expect(rows.map((r) => [r.destinationId, r.state, r.message])).toEqual([['192.168.150.12:80', 'unknown', `misc check runner at ${socket} is not running`]]);
    expect(health.history({ limit: 10 })).toEqual([]);
    expect(await deps.fake.dump()).toEqual(before);
    expect(deps.journal.size).toBe(0);
  });
});

describe('health.scripts', () => {
  it('lists the folder for operators, says who scripts run as; viewers are refused', async () => {
    await open({ checksDir: path.join(dir, 'none') });
    const r = await callerFor(deps, OPERATOR).health.scripts();
    expect(r).toMatchObject({ dir: path.join(dir, 'none'), scripts: [], problem: expect.stringMatching(/does not exist$/) });
    expect(r.runsAs).toMatch(/^uid \d+, gid \d+$|^the agent's own user/);
    const e = await refusal(callerFor(deps, { role: 'viewer', tokenName: 'viewer' }).health.scripts());
    expect(e.code).toBe('FORBIDDEN');
  });
});
