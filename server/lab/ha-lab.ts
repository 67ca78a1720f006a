/**
 * Boots the lab kernel in HA mode (two directors lvs1/lvs2, ZooKeeper, the
 * seed's real servers and client; see guest/ha-main.sh) with the project's
 * tap link, and waits until both agents answer through the guest's port
 * proxy. Used by `npm start -- --ha` and by the HA lab tests (no console).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { haConfigSchema, type HaConfig } from '../../lib/schemas/ha';
import { bundleAgent } from './bundle';
import { HA_DIRECTORS, HA_LAB, HA_MM, type HaDirectorName } from '@/lib/lab/ha-topology';
import { runInLab, type LabRunResult, type TapLink } from './uml';

/** The same link as start.ts's LAB_TAP: one lab per machine owns dlab0. */
export const HA_LAB_TAP: TapLink = { name: 'dlab0', hostAddress: '169.254.150.1', guestAddress: '169.254.150.2', prefix: 30 };

export interface HaLabAgent {
  id: HaDirectorName;
  name: string;
  /** through the guest's port proxy on the tap link */
  url: string;
  /** the agent's own address inside the lab (what its peer uses) */
  labUrl: string;
  viewerToken: string;
  operatorToken: string;
}

export interface HaLabOptions {
  projectRoot: string;
  /** requests per second per service from the client namespace */
  rate: number;
  /** console origin the agents accept WebSockets from */
  allowOrigin?: string;
  /** start with plain keepalived and agents without HA (the split-brain baseline) */
  baseline?: boolean;
  /** preempt of every director's group at boot (default false; master-master: true, each director takes its own group back) */
  preempt?: boolean;
  /** two VIP groups, one master each, DNS in front (`npm start -- --ha master-master`) */
  masterMaster?: boolean;
  signal?: AbortSignal;
  /** one line per boot step */
  onStep?: (step: string) => void;
  onOutput?: (chunk: string) => void;
  bootTimeoutMs?: number;
  /** default HA_LAB_TAP (npm start's dlab0); tests take their own so they need not wait for a running npm start */
  tap?: TapLink;
}

/** What the directors of the lab share: one ZooKeeper identity, one table key (see server/ha/secrets.ts). */
export interface HaLabSecrets {
  /** `user:password`, the line of each director's zk-credentials */
  zkCredentials: string;
  tableKey: string;
}

export interface HaLab {
  agents: HaLabAgent[];
  secrets: HaLabSecrets;
  /** ZooKeeper through the guest's port proxy (host:port), for tests playing an outsider */
  zookeeperUrl: string;
  /** resolves when the lab kernel has stopped (abort `signal` to stop it) */
  done: Promise<LabRunResult>;
  startupMs: number;
  /** host folder with each agent's log (lvsN-agent.log) while the lab runs */
  logDir: string;
}

/** Each director's HaConfig, as the lab writes it to /run/director-lab/lvsN/ha.json. */
export function haLabConfig(director: HaDirectorName, preempt: boolean, masterMaster = false): HaConfig {
  const me = HA_DIRECTORS.find((d) => d.name === director)!;
  const peers = HA_DIRECTORS.filter((d) => d.name !== director);
  const group = (name: string, vips: string[], virtualRouterId: number, priority: number) => ({
    name, vips, interface: HA_LAB.lanInterface, heartbeatInterface: HA_LAB.heartbeatInterface,
    unicastSourceIp: me.heartbeatAddress, unicastPeers: peers.map((p) => p.heartbeatAddress),
    virtualRouterId, priority, advertIntervalMs: HA_LAB.advertIntervalMs, preempt,
  });
  // the preferred master of a group has the higher priority (150 against 100)
  const [high, low] = [HA_DIRECTORS[0].priority, HA_DIRECTORS[1].priority];
  const groups = masterMaster
    ? HA_MM.groups.map((g) => group(g.name, [`${g.vip}/32`], g.virtualRouterId, g.preferred === director ? high : low))
    : [group(HA_LAB.group, [`${HA_LAB.vip}/32`, `${HA_LAB.gateway}/32`], HA_LAB.virtualRouterId, me.priority)];
  return haConfigSchema.parse({
    director,
    zookeeper: HA_LAB.zookeeper,
    sessionTimeoutMs: HA_LAB.sessionTimeoutMs,
    zkRoot: '/director',
    groups,
    // one syncid for the cluster: each director's master daemon sends it and the peer's backup takes it
    sync: { interface: HA_LAB.heartbeatInterface, syncId: HA_LAB.syncId },
    ...(masterMaster ? {
      dns: { name: HA_MM.dnsName, server: HA_MM.dnsServer, hostsFile: HA_MM.hostsFile, pidFile: HA_MM.dnsPidFile, drainMs: HA_MM.drainMs },
    } : {}),
    // the peer's own token file: visible to both, since all directors share the guest's /run
    peers: peers.map((p) => ({ director: p.name, url: `http://${p.lanAddress}:${HA_LAB.agentPort}`, tokenFile: `/run/director-lab/${p.name}/tokens/viewer.token` })),
    runDir: `/run/director-lab/${director}/ha`,
  });
}

/**
 * Writes each director's ha.json, tokens and HA secrets under `dir/lvsN/`
 * (the agent's state folder once copied into the guest). Both agents get the
 * same tokens: a director asks its peer's ha.status with its own viewer
 * token when ZooKeeper is out of reach. Both get the same ZooKeeper
 * credentials and table key: that is what makes them one cluster.
 */
function writeConfigs(dir: string, preempt: boolean, masterMaster: boolean): { viewerToken: string; operatorToken: string; secrets: HaLabSecrets } {
  const tokens = {
    viewerToken: `viewer_${randomBytes(32).toString('base64url')}`,
    operatorToken: `operator_${randomBytes(32).toString('base64url')}`,
  };
  const secrets: HaLabSecrets = {
    zkCredentials: `director:${randomBytes(24).toString('base64url')}`,
    tableKey: randomBytes(32).toString('base64url'),
  };
  for (const d of HA_DIRECTORS) {
    const tdir = path.join(dir, d.name, 'tokens');
    mkdirSync(tdir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(tdir, 'viewer.token'), `${tokens.viewerToken}\n`, { mode: 0o600 });
    writeFileSync(path.join(tdir, 'operator.token'), `${tokens.operatorToken}\n`, { mode: 0o600 });
    // the defaults of lib/schemas/ha.ts (zkCredentialsFile, tableKeyFile), relative to the state folder
    writeFileSync(path.join(dir, d.name, 'zk-credentials'), `${secrets.zkCredentials}\n`, { mode: 0o600 });
    writeFileSync(path.join(dir, d.name, 'ha-table.key'), `${secrets.tableKey}\n`, { mode: 0o600 });
    // compact on purpose: ha-faults.sh start-director --preempt rewrites `"preempt":false` in place
    writeFileSync(path.join(dir, d.name, 'ha.json'), `${JSON.stringify(haLabConfig(d.name, preempt, masterMaster))}\n`, { mode: 0o600 });
  }
  return { ...tokens, secrets };
}

function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/healthz`, { timeout: 2000, agent: false }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export async function startHaLab(o: HaLabOptions): Promise<HaLab> {
  const started = Date.now();
  const step = o.onStep ?? (() => {});
  const tap = o.tap ?? HA_LAB_TAP;
  step('bundling the agent');
  const bundle = await bundleAgent(o.projectRoot);
  let tokens: { viewerToken: string; operatorToken: string; secrets: HaLabSecrets } | null = null;
  let logDir = '';
  let running = false;
  let log = '';
  const args = ['bash', path.join(o.projectRoot, 'server/lab/guest/ha-main.sh'), bundle, '/run/out/ha-config', String(o.rate), o.allowOrigin ?? ''];
  if (o.baseline) args.push('--baseline');
  if (o.masterMaster) args.push('--master-master');
  step(`booting the lab kernel in HA mode${o.masterMaster ? ' (master-master: two VIP groups, DNS in front)' : ''} (tap ${tap.name} ${tap.hostAddress}/${tap.prefix} <-> ${tap.guestAddress})`);
  const done = runInLab({
    command: args,
    cwd: o.projectRoot,
    tap,
    // the port proxy listens on the guest's end of the tap
    env: { LAB_PROXY_ADDR: tap.guestAddress, DIRECTOR_LAB_LOG_DIR: '/run/out/logs' },
    memoryMb: 1280,
    timeoutMs: 2_000_000_000, // about 23 days: runs until `signal`
    signal: o.signal,
    onPrepared: ({ outDir }) => {
      tokens = writeConfigs(path.join(outDir, 'ha-config'), o.preempt ?? o.masterMaster ?? false, o.masterMaster ?? false);
      logDir = path.join(outDir, 'logs');
    },
    onOutput: (chunk) => {
      log = (log + chunk).slice(-20_000);
      o.onOutput?.(chunk);
      for (const line of chunk.split('\n')) {
        const m = /^@@lab-step (.*)$/.exec(line);
        if (m) {
          step(m[1]!);
          if (m[1] === 'lab: running') running = true;
        }
      }
    },
  });
  let ended: LabRunResult | null = null;
  let failure: Error | null = null;
  void done.then((r) => { ended = r; }, (e: unknown) => { failure = e as Error; });
  const agents = (): HaLabAgent[] => HA_DIRECTORS.map((d) => ({
    id: d.name,
    name: `Lab director ${d.name}`,
    url: `http://${tap.guestAddress}:${d.proxyPort}`,
    labUrl: `http://${d.lanAddress}:${HA_LAB.agentPort}`,
    viewerToken: tokens!.viewerToken,
    operatorToken: tokens!.operatorToken,
  }));
  const until = Date.now() + (o.bootTimeoutMs ?? 600_000);
  for (;;) {
    if (failure) throw failure;
    if (ended) break;
    if (o.signal?.aborted) throw new Error('stopped while the HA lab was booting');
    if (running && tokens) {
      const ok = await Promise.all(agents().map((a) => healthy(a.url)));
      if (ok.every(Boolean)) break;
    }
    if (Date.now() > until) throw new Error(`the HA lab did not come up within ${Math.round((o.bootTimeoutMs ?? 600_000) / 1000)} s; last output:\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  if (ended) {
    const r = ended as LabRunResult;
    throw new Error(`the HA lab kernel stopped while booting (status ${r.status}); last output:\n${r.output.slice(-3000) || r.console.slice(-3000)}`);
  }
  step('both agents answer through the port proxy');
  return {
    agents: agents(), secrets: tokens!.secrets, zookeeperUrl: `${tap.guestAddress}:${HA_LAB.zookeeperProxyPort}`,
    done, startupMs: Date.now() - started, logDir,
  };
}
