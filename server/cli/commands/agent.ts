/**
 * `director agent`: the privileged agent serving the tRPC API over HTTP and
 * WebSocket until SIGINT/SIGTERM.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { AnyRouter } from '@trpc/server';
import { normalizeOrigin, Auth } from '../../api/auth';
import { procConnSource } from '../../live/conn-source';
import { kernelHub } from '../../live/hub';
import { SkewWatch } from '../../live/skew';
import { SlowStarts } from '../../table/slow-start';
import { DraftStore } from '../../changeset/store';
import { DrainRemovals } from '../../table/drain-removals';
import { HistoryService } from '../../live/history';
import { Journal } from '../../table/journal';
import { Mutex } from '../../table/mutex';
import { checkListen, startAgentServer, type ListenSpec } from '../../api/server';
import { openIpvs } from '../../ipvs/open';
import { DEFAULT_CHECKS_DIR } from '@/lib/schemas/health';
import { resolveUser } from '../../health/checkers/misc';
import { HealthService } from '../../health/service';
import { loadHaConfig, startHa, DIRECTOR_ID_RE } from '../../ha/start';
import { disabledHa } from '../../ha/service';
import { Rehearsals } from '../../ha/rehearsal';
import { connTotals, type TrafficCounts } from '@/lib/ha/rehearsal';
import type { CliIo } from '../io';
import { agentCert, agentEnroll, defaultUrl } from '../agent-tls';
import { fingerprintOf } from '../../pki/pki';
import { Credentials } from '../../api/credentials';
import { Enrollment } from '../../api/enroll';
import { VERSION } from '../version';
import { configAsFlags } from '../../../lib/schemas/agent-config';
import { SAMPLER_KNOBS, knobsHelp, parseKnob } from '@/lib/agent/sampler-knobs';
import { agentConfigPath, DEFAULT_AGENT_CONFIG, loadAgentConfig } from '../agent-config';
import { OutsideWatch } from '../../table/outside';

export const DEFAULT_PORT = 9580;
const USAGE = `usage: director agent cert --ca-dir DIR --name NAME --ip ADDR… [--dns NAME]… [--out DIR]
       director agent enroll [--url https://ADDR:PORT] [--ttl 10m] [--tls-cert FILE] [--state-dir DIR]
       director agent [--config FILE] [--listen ADDR:PORT | --socket PATH] [--state-dir DIR]
                      [--allow-origin URL]... [--tick-ms N] [--dest-budget N] [--tls-cert FILE --tls-key FILE]
                      [--insecure-listen] [--log-level LEVEL] [--director-id ID] [--ha-config FILE]
                      [--checks-dir DIR] [--check-user USER] [--check-runner SOCKET] [--allow-local-checks]
                      [--skew-window SECONDS] [--skew-hold SECONDS]
  --config          TOML file with a key per flag (default ${DEFAULT_AGENT_CONFIG} when it exists);
                    flags given on the command line win over its keys
  --listen          address and port (default 127.0.0.1:${DEFAULT_PORT}; IPv6 as [::1]:${DEFAULT_PORT})
  --socket          listen on a unix socket instead (mode 0660)
  --state-dir       tokens and journal (default $DIRECTOR_STATE_DIR or /var/lib/director)
  --allow-origin    browser origin allowed to open the WebSocket (repeatable)
${knobsHelp()}  --insecure-listen allow a non-loopback address without TLS
  --director-id     this director's name among its HA peers (default: the host name)
  --ha-config       high availability: JSON HaConfig (VIP groups, ZooKeeper, peers); the agent
                    then runs keepalived, holds a ZooKeeper lease per group and shares the table
  --checks-dir      the only folder misc health checks run scripts from; it and its scripts must be
                    root-owned and not group- or world-writable (default ${DEFAULT_CHECKS_DIR})
  --check-user      the user misc-check scripts run as, without capabilities (name or uid:gid;
                    default nobody)
  --check-runner    run misc-check scripts through the check runner at this unix socket
                    (director check-runner, its own user, no capabilities, no access to the
                    state folder) instead of through setpriv as the agent's own user
  --allow-local-checks  let health checks target loopback, link-local and unspecified addresses
                    (the director's own services; off by default)
  --skew-window     hash skew (sh, mh, dh): compare each real server's share of new connections
                    with its weight's share over this many seconds (default 60)
  --skew-hold       and raise the alarm when the skew holds this many seconds (default 180)
`;

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`--listen: expected ADDR:PORT (e.g. 127.0.0.1:${DEFAULT_PORT} or [::1]:${DEFAULT_PORT}), got '${text}'`);
  return { host: (m[1] ?? m[2])!, port };
}

export interface AgentCommandOptions {
  /** the API to serve instead of the production one (the lab's launcher adds lab.*) */
  router?: AnyRouter;
  /** the lab's traffic counters, which a failover rehearsal measures (only the lab's agent bundle has them) */
  rehearsalTraffic?: () => Promise<TrafficCounts | null>;
}

export default async function agent(args: string[], io: CliIo, opts: AgentCommandOptions = {}): Promise<number> {
  // `director agent cert|enroll …`: certificate and enrollment helpers (../agent-tls.ts)
  if (args[0] === 'cert') return agentCert(args.slice(1), io);
  if (args[0] === 'enroll') return agentEnroll(args.slice(1), io);
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        listen: { type: 'string' },
        socket: { type: 'string' },
        'state-dir': { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        'tick-ms': { type: 'string' },
        'dest-budget': { type: 'string' },
        'skew-window': { type: 'string' },
        'skew-hold': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'insecure-listen': { type: 'boolean' },
        'log-level': { type: 'string' },
        'director-id': { type: 'string' },
        'ha-config': { type: 'string' },
        config: { type: 'string' },
        'checks-dir': { type: 'string' },
        'check-user': { type: 'string' },
        'check-runner': { type: 'string' },
        'allow-local-checks': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    io.stderr(`director agent: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  // The file first, then the flags over it; all of it is checked before anything opens.
  const cfgPath = agentConfigPath(values.config);
  if (cfgPath !== null) {
    let fromFile: Record<string, unknown>;
    try {
      fromFile = configAsFlags(loadAgentConfig(cfgPath));
    } catch (e) {
      io.stderr(`director agent: configuration error:\n${(e as Error).message}\n`);
      return 2;
    }
    // a flag replaces the file's choice as a whole: --listen its socket, --tls-* both of its TLS files
    if (values.listen !== undefined || values.socket !== undefined) { delete fromFile.listen; delete fromFile.socket; }
    if (values['tls-cert'] !== undefined || values['tls-key'] !== undefined) { delete fromFile['tls-cert']; delete fromFile['tls-key']; }
    const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
    values = { ...fromFile, ...given } as typeof values;
  }
  if (values.listen && values.socket) {
    io.stderr('director agent: give --listen or --socket, not both\n');
    return 2;
  }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    io.stderr('director agent: --tls-cert and --tls-key go together\n');
    return 2;
  }
  let tickMs: number, destBudget: number, skewWindow: number, skewHold: number;
  try {
    skewWindow = seconds('--skew-window', values['skew-window'], 60);
    skewHold = seconds('--skew-hold', values['skew-hold'], 180);
    tickMs = parseKnob(SAMPLER_KNOBS.tickMs, values['tick-ms']);
    destBudget = parseKnob(SAMPLER_KNOBS.destBudget, values['dest-budget']);
  } catch (e) {
    io.stderr(`director agent: ${(e as Error).message}\n`);
    return 2;
  }
  const origins: string[] = [];
  for (const o of values['allow-origin'] ?? []) {
    const n = normalizeOrigin(o);
    if (!n) {
      io.stderr(`director agent: --allow-origin: '${o}' is not an http(s) origin like https://console.example:3000\n`);
      return 2;
    }
    origins.push(n);
  }
  let listen: ListenSpec;
  try {
    listen = values.socket ? { socket: values.socket } : parseListen(values.listen ?? `127.0.0.1:${DEFAULT_PORT}`);
  } catch (e) {
    io.stderr(`director agent: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    checkListen(listen, values['tls-cert'] !== undefined, values['insecure-listen'] === true);
  } catch (e) {
    io.stderr(`director agent: ${(e as Error).message}\n`);
    return 2;
  }
  const stateDir = values['state-dir'] ?? process.env.DIRECTOR_STATE_DIR ?? '/var/lib/director';
  if (values['director-id'] !== undefined && !DIRECTOR_ID_RE.test(values['director-id'])) {
    io.stderr(`director agent: --director-id: '${values['director-id']}' must be 1-32 lower-case letters, digits, _ or -, starting with a letter or digit\n`);
    return 2;
  }
  let haConfig = null;
  if (values['ha-config'] !== undefined) {
    try {
      haConfig = await loadHaConfig(values['ha-config'], values['director-id']);
    } catch (e) {
      io.stderr(`director agent: --ha-config: ${(e as Error).message}\n`);
      return 2;
    }
  }
  try {
    if (resolveUser(values['check-user'] ?? 'nobody').uid === 0) throw new Error('misc-check scripts must not run as root');
  } catch (e) {
    io.stderr(`director agent: --check-user: ${(e as Error).message}\n`);
    return 2;
  }
  const directorId = haConfig?.director ?? values['director-id'] ?? os.hostname();
  const log = pino({ level: values['log-level'] ?? 'info', base: { svc: 'director-agent' } });

  const tls = values['tls-cert'] && values['tls-key']
    ? { cert: await readFile(values['tls-cert']), key: await readFile(values['tls-key']) }
    : undefined;
  const backend = await openIpvs();
  const hub = kernelHub({ backend, log, tickMs, destBudget });
  const skew = new SkewWatch(hub, { windowMs: skewWindow * 1000, holdMs: skewHold * 1000 }, Math.min(10_000, skewWindow * 250));
  const slowStarts = new SlowStarts();
  const drainRemovals = new DrainRemovals(tickMs);
  const history = await HistoryService.open({ stateDir, log });
  const drafts = await DraftStore.open({ stateDir, log });
  history.attach(hub);
  const credentials = await Credentials.open(stateDir);
  const auth = await Auth.open({ stateDir, log, announce: (t) => io.stderr(t), credentials });
  const journal = await Journal.open(stateDir);
  for (const w of journal.warnings) log.warn(w);
  const writeLock = new Mutex();
  const outside = await OutsideWatch.open({ journal, hub, log, stateDir });
  const health = await HealthService.open({
    backend, writeLock, journal, log, stateDir, poke: () => hub.poke(), slowStarts,
    checksDir: values['checks-dir'] ?? DEFAULT_CHECKS_DIR,
    checkUser: values['check-user'] ?? 'nobody',
    ...(values['check-runner'] ? { checkRunner: values['check-runner'] } : {}),
    allowLocalChecks: values['allow-local-checks'] === true,
  });
  // with TLS (enrollment possible) and ZooKeeper, the agent registers itself for consoles to approve
  const registerUrl = haConfig && tls && !values.socket ? defaultUrl(values.listen ?? `127.0.0.1:${DEFAULT_PORT}`) : null;
  if (haConfig && tls && !registerUrl) log.warn('not registered in ZooKeeper: no address consoles could reach this agent at');
  const ha = haConfig
    ? startHa({
      config: haConfig, backend, journal, writeLock, hub, log, runDir: path.join(stateDir, 'ha'), outside,
      register: registerUrl && tls ? { url: registerUrl, fingerprint: fingerprintOf(tls.cert) } : null,
    })
    : null;
  const rehearsals = ha && haConfig
    ? await Rehearsals.open({
      ha, log, stateDir, peers: haConfig.peers, traffic: opts.rehearsalTraffic ?? null,
      connections: async () => connTotals(await hub.table({ fresh: true })),
    })
    : null;
  const server = await startAgentServer({
    deps: {
      backend, journal, hub, log, writeLock, conns: procConnSource(), health,
      directorId, ha: ha ?? disabledHa(directorId), rehearsals, skew, slowStarts, drainRemovals, outside, history, drafts,
      version: VERSION, startedAt: Date.now(),
    },
    auth,
    listen,
    ...(tls ? { tls, enroll: new Enrollment({ stateDir, credentials, log, directorId }) } : {}),
    insecureListen: values['insecure-listen'] === true,
    allowOrigins: origins,
    ...(opts.router ? { router: opts.router } : {}),
  }).catch((e: unknown) => {
    ha?.table?.close();
    hub.close();
    backend.close();
    throw e;
  });
  hub.start();
  skew.start();
  await health.start();
  if (ha) {
    try {
      await ha.start();
    } catch (e) {
      io.stderr(`director agent: high availability did not start: ${(e as Error).message}\n`);
      await ha.stop().catch(() => {});
      health.stop();
      await server.close();
      hub.close();
      backend.close();
      return 1;
    }
  }
  io.stderr(`director agent: listening on ${server.url}${server.wsUrl ? ` (WebSocket ${server.wsUrl})` : ''}\n`);

  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info({ signal: sig }, 'shutting down');
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve();
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  // first: give the leases back and stop keepalived, so a peer takes the VIPs at once
  await ha?.stop().catch((e: unknown) => log.error({ err: e }, 'HA stop failed'));
  health.stop();
  skew.stop();
  slowStarts.close();
  drainRemovals.close();
  await server.close();
  hub.close();
  // the minutes since the last periodic write, so a restart loses none
  await history.save();
  backend.close();
  return 0;
}

/** A whole number of seconds from 5 to 86400 (one day), or the default when not given. */
function seconds(flag: string, text: string | undefined, dflt: number): number {
  if (text === undefined) return dflt;
  const v = Number(text);
  if (!/^\d+$/.test(text) || v < 5 || v > 86_400) throw new RangeError(`${flag} must be whole seconds from 5 to 86400, got '${text}'`);
  return v;
}
