/**
 * director lab status [--json]
 * director lab rate N
 * director lab fault rs1|rs2 FAULT on|off     (FAULT: stop-httpd remove-vip break-arp remove-nat-route)
 * director lab ha-repair [FAULT]              (HA lab: repair that standing fault, or every one that is on)
 *
 * Talks to the agent inside the lab over tRPC with the operator token. The
 * agent and token come from --agent URL / --token-file FILE, else
 * DIRECTOR_AGENT_URL / DIRECTOR_TOKEN, else the running `npm start`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { LabAppRouter as AppRouter } from '../../lab/app-router';
import { FAULTS, MAX_RATE, type Fault, type LabStatus } from '@/lib/lab/topology';
import { HA_STANDING_FAULTS, type HaStandingFault } from '@/lib/lab/ha-topology';
import { haDirectorChecks, haPairChecks, haRoleLabel, labMode, realServerChecks, type LabCheck } from '@/lib/lab/checks';
import { STATE_FILE_PATH } from '../../lab/state-file';
import type { CliIo } from '../io';

const USAGE = `usage: director lab status [--json]
       director lab rate N                         (0-${MAX_RATE} requests/s per service)
       director lab fault rs1|rs2 FAULT on|off     (FAULT: ${FAULTS.join(', ')})
       director lab ha-repair [FAULT]              (HA lab; FAULT: ${HA_STANDING_FAULTS.join(', ')}; none: all that are on)
options: --agent URL  --token-file FILE  (default: the running npm start)
`;

/**
 * The agent to ask, and (HA lab from the running npm start, no --agent) the
 * other directors' agents to try when it does not answer: a stopped director
 * must not hide the lab's status. Both HA agents take the same tokens.
 */
function target(agent: string | undefined, tokenFile: string | undefined): { url: string; token: string; fallbacks: string[] } {
  let url = agent ?? process.env.DIRECTOR_AGENT_URL;
  let token = tokenFile ? readFileSync(tokenFile, 'utf8').trim() : process.env.DIRECTOR_TOKEN;
  let fallbacks: string[] = [];
  if (!url || !token) {
    let state: { agentUrl: string; operatorToken: string; agents?: { url: string }[] };
    try {
      state = JSON.parse(readFileSync(STATE_FILE_PATH, 'utf8')) as typeof state;
    } catch {
      throw new Error(`no agent given and no running lab (${STATE_FILE_PATH} is missing): start one with npm start, or give --agent and --token-file`);
    }
    if (!url) fallbacks = (state.agents ?? []).map((a) => a.url).filter((u) => u !== state.agentUrl);
    url ??= state.agentUrl;
    token ??= state.operatorToken;
  }
  return { url: url.replace(/\/+$/, ''), token, fallbacks };
}

const STATUS_TIMEOUT_MS = 15_000;

/**
 * A call that gives up after `ms`. The timer is a ref'd one on purpose: the port proxy of a stopped
 * HA agent holds the connection without answering, and with only unref'd handles left node exits
 * silently (status 13) in the middle of the await instead of trying the next agent.
 */
async function withDeadline<T>(ms: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`no answer within ${ms / 1000} s`)), ms);
  try {
    return await call(ac.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** The first agent whose /healthz answers within 3 s (or the first, to fail with its own error). */
async function firstAnswering(urls: string[], token: string): Promise<string> {
  for (const u of urls.slice(0, -1)) {
    try {
      const res = await withDeadline(3000, (signal) => fetch(`${u}/healthz`, { signal, headers: { authorization: `Bearer ${token}` } }));
      if (res.ok) return u;
    } catch { /* next */ }
  }
  return urls.at(-1)!;
}

export function client(url: string, token: string) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url}/trpc`, headers: { authorization: `Bearer ${token}` } })],
  });
}

const mark = (v: boolean | null) => (v === null ? '?' : v ? 'ok' : 'BROKEN');

/** "label ok", "label BROKEN (why)", "label n/a": one check as the CLI prints it. */
function formatCheck(c: LabCheck): string {
  if (!c.applies) return `${c.label} n/a`;
  return `${c.label} ${mark(c.ok)}${c.ok === false && c.detail ? ` (${c.detail})` : ''}`;
}

export function formatStatus(s: LabStatus): string {
  const lines: string[] = [];
  const t = s.topology;
  const mode = labMode(s);
  lines.push(`VIP ${t.vip}  ${mode === 'ha' ? 'gateway (floats with the VIP)' : 'DIP'} ${t.dip}  client ${t.client.address}`);
  if (s.director) lines.push(`director: VIP on br0 ${mark(s.director.vipOnBr0)}, ip_forward ${s.director.ipForward}`);
  if (mode === 'ha') {
    const ha = s.ha;
    if (!ha) lines.push('HA: facts not in yet');
    else {
      lines.push(`HA pair: ${haPairChecks(ha).map(formatCheck).join(', ')}`);
      for (const d of ha.directors) {
        lines.push(`${d.name} ${d.lanAddress}: ${haRoleLabel(d)}${d.holdsVip ? ', holds the VIP' : ''}; ${haDirectorChecks(d, ha).map(formatCheck).join(', ')}` +
          (d.role?.error ? ` (agent: ${d.role.error})` : ''));
      }
      lines.push(`HA faults on: ${ha.faultsOn?.length ? ha.faultsOn.join(' ') : 'none'}`);
    }
  }
  for (const rs of s.realServers) {
    const arp = rs.arp ? `${rs.arp.allIgnore}/${rs.arp.allAnnounce} (eth0 ${rs.arp.eth0Ignore}/${rs.arp.eth0Announce})` : '?';
    const [, vip, , nat, tun] = realServerChecks(rs, mode);
    lines.push(`${rs.name} ${rs.address}: httpd ${rs.httpd.up ? 'up' : `DOWN (${rs.httpd.detail})`}, VIP on lo ${mark(vip!.ok)}, ` +
      `arp_ignore/announce ${arp} ${mark(rs.arpOk)}, NAT route ${mark(nat!.ok)}, tunl0 ${tun!.applies ? mark(tun!.ok) : 'n/a (no TUN service)'}` +
      (rs.faults.length ? `, faults: ${rs.faults.join(' ')}` : ''));
  }
  if (s.traffic) {
    lines.push(`traffic: ${s.traffic.rate} requests/s per service`);
    for (const [id, v] of Object.entries(s.traffic.services)) {
      const by = Object.entries(v.byServer).map(([a, n]) => `${a} ${n}`).join(', ');
      lines.push(`  ${id.padEnd(4)} ${v.method.padEnd(4)} ${v.address}:${v.port}  ok ${v.ok} failed ${v.failed} in flight ${v.inflight}` +
        `  (${v.okPerSec.toFixed(1)} ok/s, ${v.failedPerSec.toFixed(1)} failed/s)  by server: ${by || '-'}` +
        (v.lastError ? `  last error: ${v.lastError}` : ''));
    }
  } else {
    lines.push('traffic: not running yet');
  }
  if (s.factsError) lines.push(`(namespace facts: ${s.factsError})`);
  return lines.join('\n') + '\n';
}

export default async function lab(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args, allowPositionals: true, strict: true,
      options: { agent: { type: 'string' }, 'token-file': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    io.stderr(`director lab: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  if (values.help || !sub) {
    (values.help ? io.stdout : io.stderr)(USAGE);
    return values.help ? 0 : 2;
  }
  const bad = (msg: string) => { io.stderr(`director lab ${sub}: ${msg}\n${USAGE}`); return 2; };

  if (sub === 'status') {
    if (rest.length) return bad(`unexpected '${rest.join(' ')}'`);
    const { url, token, fallbacks } = target(values.agent, values['token-file']);
    let s: LabStatus | null = null;
    for (const [i, u] of [url, ...fallbacks].entries()) {
      try {
        s = await withDeadline(STATUS_TIMEOUT_MS, (signal) => client(u, token).lab.status.query({ fresh: true }, { signal }));
        break;
      } catch (e) {
        if (i === fallbacks.length) throw e;
        io.stderr(`director lab status: ${u} did not answer (${(e as Error).message}); asking ${fallbacks[i]}\n`);
      }
    }
    io.stdout(values.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s!));
    return 0;
  }
  if (sub === 'rate') {
    if (rest.length !== 1) return bad('give one rate, e.g. director lab rate 10');
    const rate = Number(rest[0]);
    if (!Number.isFinite(rate) || rate < 0 || rate > MAX_RATE) return bad(`rate must be a number from 0 to ${MAX_RATE}, got '${rest[0]}'`);
    const { url, token } = target(values.agent, values['token-file']);
    const r = await client(url, token).lab.setRate.mutate({ rate });
    io.stdout(`traffic: ${r.rate} requests/s per service\n`);
    return 0;
  }
  if (sub === 'fault') {
    const [server, fault, state] = rest;
    if (rest.length !== 3) return bad('expected: fault rs1|rs2 FAULT on|off');
    if (server !== 'rs1' && server !== 'rs2') return bad(`real server must be rs1 or rs2, got '${server}'`);
    if (!(FAULTS as readonly string[]).includes(fault!)) return bad(`unknown fault '${fault}'; one of ${FAULTS.join(', ')}`);
    if (state !== 'on' && state !== 'off') return bad(`state must be on or off, got '${state}'`);
    const { url, token } = target(values.agent, values['token-file']);
    const s = await client(url, token).lab.fault.mutate({ server, fault: fault as Fault, on: state === 'on' });
    io.stdout(`${server} ${fault} ${state}\n${formatStatus(s)}`);
    return 0;
  }
  if (sub === 'ha-repair') {
    if (rest.length > 1) return bad('expected: ha-repair [FAULT]');
    const f = rest[0];
    if (f !== undefined && !(HA_STANDING_FAULTS as readonly string[]).includes(f)) return bad(`unknown HA fault '${f}'; one of ${HA_STANDING_FAULTS.join(', ')}`);
    const { url, token, fallbacks } = target(values.agent, values['token-file']);
    // a stopped director's agent cannot repair it: ask the other one (a repair is not retried once asked)
    const live = await firstAnswering([url, ...fallbacks], token);
    const r = await client(live, token).lab.haRepair.mutate({ fault: f as HaStandingFault | undefined });
    io.stdout(`repaired: ${r.repaired.length ? r.repaired.join(' ') : 'nothing was on'}\n`);
    return 0;
  }
  return bad(`unknown subcommand '${sub}'`);
}
