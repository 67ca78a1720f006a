/**
 * `lab.*` procedures: the seed's LVS lab around the director this agent runs
 * on (only inside the lab kernel, where the runner sets DIRECTOR_LAB=1).
 * Elsewhere every procedure answers NOT_IMPLEMENTED, so the router's type is
 * the same for every agent.
 *
 * Facts come from the kernels themselves: status.sh for the real servers'
 * namespaces (addresses, ARP sysctls, policy routing), an HTTP probe from the
 * director for each web server, and the traffic generator's counters.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { DomainError, PreconditionError, UnsupportedError } from '@/lib/errors';
import { z } from 'zod';
import { operatorProcedure, router, viewerProcedure } from '../../api/trpc';
import {
  DIRECTOR_FAULTS, FAULTS, LAB_TOPOLOGY, MAX_RATE, REAL_SERVERS, labFactsSchema,
  type LabFacts, type LabStatus, type RealServerStatus,
} from '@/lib/lab/topology';
import { trafficSchema, type Traffic } from '@/lib/lab/traffic';
import { HA_STANDING_FAULTS, haFaultInput, haRepairFor, type HaFaultInput, type HaLabStatus, type HaStandingFault } from '@/lib/lab/ha-topology';
import { readHaRoles } from './ha-roles';
import { readHaLabStatus } from './ha-status';

export function labEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.DIRECTOR_LAB === '1';
}

function guestDir(): string {
  // the agent may run from a bundle, so its own location says nothing
  return process.env.DIRECTOR_LAB_GUEST_DIR ?? path.resolve(process.cwd(), 'server/lab/guest');
}
function stateDir(): string {
  return process.env.DIRECTOR_LAB_STATE ?? '/run/director-lab';
}

/** 'ha': two directors lvs1/lvs2 in namespaces (ha-main.sh); 'single': the seed's one director (lab-main.sh). */
export function labMode(env: NodeJS.ProcessEnv = process.env): 'single' | 'ha' {
  return env.DIRECTOR_LAB_MODE === 'ha' ? 'ha' : 'single';
}

function requireLab(): void {
  if (!labEnabled()) {
    throw new UnsupportedError('this agent does not run in the lab kernel (DIRECTOR_LAB is not 1)');
  }
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8', env: { ...process.env, DIRECTOR_LAB_STATE: stateDir() } }, (err, stdout, stderr) => {
      // the lab's own scripts: their message is what the lab page shows
      if (err) reject(new DomainError('internal', `${path.basename(args[0] ?? file)} ${args.slice(1).join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * Every program started inside user-mode Linux costs about a second, so the
 * namespace facts are refreshed in the background at most every few seconds
 * and at most one refresh runs at a time; callers get the latest result.
 */
class FactsCache {
  private value: { facts: LabFacts; at: number; gen: number } | null = null;
  private inflight: { done: Promise<void>; gen: number } | null = null;
  private error: string | null = null;
  /** bumped by each change to the namespaces: a read that began before it describes the old lab */
  private gen = 0;
  constructor(private readonly maxAgeMs: number) {}

  invalidate(): void {
    this.gen++;
  }

  async get(waitForFresh: boolean): Promise<{ facts: LabFacts | null; at: number | null; error: string | null }> {
    for (let round = 0; round < 2; round++) {
      const stale = !this.value || this.value.gen < this.gen || Date.now() - this.value.at > this.maxAgeMs;
      if (stale && !this.inflight) {
        const gen = this.gen;
        const done = run('bash', [path.join(guestDir(), 'status.sh')], 60_000)
          .then((out) => {
            this.value = { facts: labFactsSchema.parse(JSON.parse(out)), at: Date.now(), gen };
            this.error = null;
          })
          .catch((e: unknown) => { this.error = (e as Error).message; })
          .finally(() => { this.inflight = null; });
        this.inflight = { done, gen };
      }
      if (!((waitForFresh || !this.value) && this.inflight)) break;
      const started = this.inflight.gen;
      await this.inflight.done;
      // an in-flight read from before the last change does not count as fresh: read once more
      if (!waitForFresh || started >= this.gen) break;
    }
    return { facts: this.value?.facts ?? null, at: this.value?.at || null, error: this.error };
  }
}

const facts = new FactsCache(3000);

/** A plain HTTP GET from the director to a real server, as a health check would do it. */
function probe(address: string, port: number, timeoutMs = 2000): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: address, port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ ok: res.statusCode === 200, detail: `HTTP ${res.statusCode} ${body.trim()}`.slice(0, 120) }));
      res.on('error', (e) => resolve({ ok: false, detail: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, detail: e.code ?? e.message }));
  });
}

/** the traffic generator's ok/failed totals over every service (what a failover rehearsal measures) */
export async function trafficTotals(): Promise<{ ok: number; failed: number } | null> {
  const t = await readTraffic();
  if (!t) return null;
  return Object.values(t.services).reduce((n, v) => ({ ok: n.ok + v.ok, failed: n.failed + v.failed }), { ok: 0, failed: 0 });
}

async function readTraffic(): Promise<Traffic | null> {
  try {
    return trafficSchema.parse(JSON.parse(await readFile(path.join(stateDir(), 'traffic.json'), 'utf8')));
  } catch {
    return null;
  }
}

async function status(fresh: boolean): Promise<LabStatus> {
  const [f, traffic, probes] = await Promise.all([
    facts.get(fresh),
    readTraffic(),
    Promise.all(REAL_SERVERS.map(async (rs) => ({ name: rs.name, ...(await probe(rs.address, LAB_TOPOLOGY.ports.dr)) }))),
  ]);
  const realServers: RealServerStatus[] = REAL_SERVERS.map((rs) => {
    const observed = f.facts?.realServers.find((r) => r.name === rs.name) ?? null;
    const p = probes.find((x) => x.name === rs.name)!;
    const arp = observed?.exists ? observed.arp : null;
    return {
      name: rs.name,
      address: rs.address,
      httpd: { up: p.ok, detail: p.detail, pid: observed?.exists ? observed.httpdPid : null },
      vipOnLo: observed?.exists ? observed.vipOnLo : null,
      arp,
      arpOk: arp ? arp.allIgnore === 1 && arp.allAnnounce === 2 && arp.eth0Ignore === 1 && arp.eth0Announce === 2 : null,
      natRoute: observed?.exists ? observed.natRule && observed.natRoute : null,
      tunl0Up: observed?.exists ? observed.tunl0Up : null,
      faults: observed?.exists ? observed.faults : [],
    };
  });
  const mode = labMode();
  return {
    topology: LAB_TOPOLOGY,
    mode,
    ha: mode === 'ha' ? await haStatusWithRoles() : null,
    // status.sh's director facts describe the single lab's br0; in HA mode each director is in `ha`
    director: mode === 'ha' ? null : f.facts?.director ?? null,
    realServers,
    traffic,
    factsAt: f.at,
    factsError: f.error,
  };
}

async function setRate(rate: number): Promise<{ rate: number }> {
  const file = path.join(stateDir(), 'traffic-control.json');
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ rate }));
  await rename(tmp, file);
  return { rate };
}

/**
 * Arguments for the lab's own ipvsadm, so end-to-end tests can hold the
 * console against the real tool. No shell is involved (execFile), and each
 * argument is restricted to what ipvsadm options and addresses need.
 */
export const IPVSADM_ARG = /^[-A-Za-z0-9.:[\],=]+$/;
export const ipvsadmInput = z.object({
  args: z.array(z.string().regex(IPVSADM_ARG, 'ipvsadm arguments may hold only letters, digits and - . : [ ] , =').max(200))
    .min(1, 'give ipvsadm at least one argument, e.g. -Sn').max(30, 'at most 30 arguments'),
});

function runIpvsadm(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/usr/sbin/ipvsadm', args, { timeout: 30_000, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err && typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : err ? -1 : 0;
      resolve({ status: code, stdout, stderr: stderr || (err && code === -1 ? err.message : '') });
    });
  });
}

/**
 * A switch that stops the agent answering (its own director, or the
 * baseline that restarts both agents) runs detached, so the answer still
 * gets out; the caller watches haStatus for the outcome.
 */
function haFaultArgs(i: HaFaultInput): string[] {
  const args: string[] = [i.fault];
  if (i.director) args.push(i.director);
  if (i.preempt !== undefined) args.push('--preempt', String(i.preempt));
  if (i.on !== undefined) args.push(i.on ? 'on' : 'off');
  return args;
}

async function haFault(i: HaFaultInput): Promise<{ detached: boolean; output: string }> {
  const self = process.env.DIRECTOR_LAB_DIRECTOR;
  const script = path.join(guestDir(), 'ha-faults.sh');
  const args = haFaultArgs(i);
  const hitsSelf = i.fault === 'baseline' || ((i.fault === 'stop-director' || i.fault === 'kill-director') && i.director === self);
  if (!hitsSelf) return { detached: false, output: (await run('bash', [script, ...args], 60_000)).trim() };
  mkdirSync(stateDir(), { recursive: true });
  const log = openSync(path.join(stateDir(), 'ha-faults.log'), 'a');
  try {
    spawn('setsid', ['bash', script, ...args], {
      detached: true, stdio: ['ignore', log, log], env: { ...process.env, DIRECTOR_LAB_STATE: stateDir() },
    }).unref();
  } finally {
    closeSync(log);
  }
  return { detached: true, output: `started: ha-faults.sh ${args.join(' ')} (it stops this agent; output in ${stateDir()}/ha-faults.log)` };
}

/** The HA facts with each director's role from its own agent (a second per unanswered agent at most). */
async function haStatusWithRoles(): Promise<HaLabStatus> {
  const [st, roles] = await Promise.all([readHaLabStatus(stateDir()), readHaRoles(stateDir())]);
  return { ...st, directors: st.directors.map((d) => ({ ...d, role: roles[d.name] ?? null })) };
}

/**
 * Repairs the standing fault named, or every one that is on: each with its own
 * inverse switch, so nothing that is not on gets touched.
 */
async function haRepair(only: HaStandingFault | undefined): Promise<{ repaired: HaStandingFault[]; output: string[] }> {
  const on = (await readHaLabStatus(stateDir())).faultsOn ?? [];
  if (only && !on.includes(only)) throw new PreconditionError(`${only} is not on (on now: ${on.length ? on.join(', ') : 'none'})`);
  const todo = only ? [only] : on;
  const output: string[] = [];
  for (const f of todo) output.push((await haFault(haRepairFor(f))).output);
  return { repaired: todo, output };
}

function requireHa(): void {
  requireLab();
  if (labMode() !== 'ha') {
    throw new PreconditionError('the lab runs one director; HA faults need the HA lab (npm start -- --ha)');
  }
}

export const labRouter = router({
  /** The lab's topology and, live, which parts are healthy. `fresh` waits for a new look at the namespaces. */
  status: viewerProcedure
    .input(z.object({ fresh: z.boolean().default(false) }).default({ fresh: false }))
    .query(({ input }) => {
      requireLab();
      return status(input.fresh);
    }),
  /** Requests per second per service from the client namespace (0 stops the load). */
  setRate: operatorProcedure
    .input(z.object({ rate: z.number().min(0, 'rate is at least 0').max(MAX_RATE, `rate is at most ${MAX_RATE} requests per second`) }))
    .mutation(({ input }) => {
      requireLab();
      return setRate(input.rate);
    }),
  /** Break (on) or repair (off) one real server or the director; returns the namespaces as they are afterwards. */
  fault: operatorProcedure
    .input(z.union([
      z.object({ server: z.enum(REAL_SERVERS.map((r) => r.name) as [string, ...string[]]), fault: z.enum(FAULTS), on: z.boolean() }),
      z.object({ server: z.literal('director'), fault: z.enum(DIRECTOR_FAULTS), on: z.boolean() }),
    ]))
    .mutation(async ({ input }) => {
      requireLab();
      await run('bash', [path.join(guestDir(), 'fault.sh'), input.server, input.fault, input.on ? 'on' : 'off'], 60_000);
      facts.invalidate();
      return status(true);
    }),
  /** HA mode only: directors, VIP holders, heartbeat, ZooKeeper and long downloads, from files and /proc (cheap: poll it). */
  haStatus: viewerProcedure.query(() => {
    requireHa();
    return readHaLabStatus(stateDir());
  }),
  /** HA mode only: the fault switches of ha-faults.sh; returns the HA facts afterwards. */
  haFault: operatorProcedure
    .input(haFaultInput)
    .mutation(async ({ input }) => {
      requireHa();
      const r = await haFault(input);
      return { ...r, status: await readHaLabStatus(stateDir()) };
    }),
  /** HA mode only: repair the standing fault named (it must be on), or without one every fault that is on. */
  haRepair: operatorProcedure
    .input(z.object({ fault: z.enum(HA_STANDING_FAULTS).optional() }).default({}))
    .mutation(async ({ input }) => {
      requireHa();
      const r = await haRepair(input.fault);
      return { ...r, status: await haStatusWithRoles() };
    }),
  /** Runs the lab director's /usr/sbin/ipvsadm (operator only; a witness for tests, not a way around the agent). */
  ipvsadm: operatorProcedure
    .input(ipvsadmInput)
    .mutation(({ input }) => {
      requireLab();
      return runIpvsadm(input.args);
    }),
});
