/**
 * `director` with ipvsadm's own syntax: `director -A -t VIP:80 -s rr`,
 * `director -Lcn`, `director -Ln --stats`, `director -Sn`, `director --set 900 120 300`.
 * Listings read the kernel and print what ipvsadm prints (always numeric).
 * Writes go through this host's agent when one runs (its lock, its journal,
 * undo) and straight to the kernel when none does. A command line that does
 * not parse is refused, naming the option, before anything is opened.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { formatCommandError, parseIpvsadmArgs, WRITE_KINDS, type IpvsadmCommand } from '../../lib/ipvsadm/command';
import { CONN_TITLE, CONN_TITLE_PE, formatConnLineLikeIpvsadm, isConnHeader } from '../../lib/ipvsadm/conn-format';
import { formatList } from '../../lib/ipvs/list-format';
import { printProcListing } from '../../lib/proc/ip-vs-listing';
import { formatService, formatServiceKey, formatDestination } from '../../lib/ipvs/format';
import type { IpvsBackend } from '../../lib/ipvs/backend';
import type { NameResolver } from '../../lib/snapshot/resolve';
import { listStructure } from '../ipvs/fast-list';
import { stdoutBytes, type CliIo } from './io';
import { VERSION } from './version';

type WriteCommand = Extract<IpvsadmCommand, { kind: 'add-service' | 'edit-service' | 'delete-service' | 'add-server' | 'edit-server' | 'delete-server' | 'zero' | 'clear' | 'set-timeouts' | 'start-daemon' | 'stop-daemon' }>;

/** Where a write goes: the running agent, or the kernel itself. */
export interface Writer {
  /** for the confirmation line: "through the agent at …, journal #12" or "directly (no agent runs)" */
  write(cmd: WriteCommand): Promise<string>;
  close(): void;
}

export interface IpvsadmDeps {
  openBackend(): Promise<IpvsBackend>;
  /** the agent writer when an agent runs on this host, else null */
  agentWriter(): Promise<Writer | null>;
  connTable: string;
  resolver(): NameResolver;
}

const USAGE = `usage: director COMMAND [options]   (ipvsadm's syntax; see ipvsadm(8))
  director -A|-E -t|-u|--sctp-service ADDR[:PORT] | -f MARK [-6] [-s SCHED] [-p [TIMEOUT]] [-M MASK] [--pe PE] [-b FLAGS] [-o]
  director -D -t|-u|--sctp-service ADDR[:PORT] | -f MARK [-6]
  director -a|-e SERVICE -r ADDR[:PORT] [-g|-i|-m] [-w WEIGHT] [-x UPPER] [-y LOWER] [--tun-type ipip|gue|gre] [--tun-port N] [--tun-nocsum|--tun-csum|--tun-remcsum]
  director -d SERVICE -r ADDR[:PORT]
  director -L|-l [-n] [SERVICE] [--stats|--rate|--thresholds|--persistent-conn|--tun-info] [--exact] [--nosort]
  director -L|-l [-n] -c [--persistent-conn] | --timeout | --daemon
  director -S [-n]        director -R < FILE
  director -Z [SERVICE]   director -C   director --set TCP TCPFIN UDP
  director --start-daemon master|backup [--mcast-interface IF] [--syncid N] [--sync-maxlen N] [--mcast-group G] [--mcast-port N] [--mcast-ttl N]
  director --stop-daemon master|backup
Writes go through this host's agent when it runs (locked, journaled, undoable), else straight to the kernel.
Names are always printed numerically, as with -n.
`;

async function list(cmd: Extract<IpvsadmCommand, { kind: 'list' }>, io: CliIo, deps: IpvsadmDeps): Promise<number> {
  if (cmd.view === 'connections') {
    // streamed: the table can hold millions of entries
    let out = cmd.peColumns ? CONN_TITLE_PE : CONN_TITLE;
    const rl = createInterface({ input: createReadStream(deps.connTable), crlfDelay: Infinity });
    try {
      for await (const line of rl) {
        if (isConnHeader(line)) continue;
        out += formatConnLineLikeIpvsadm(line, cmd.peColumns);
        if (out.length > 1 << 16) { io.stdout(out); out = ''; }
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      throw new Error(`${deps.connTable} does not exist: this kernel has no IPVS (load ip_vs, or use the lab: npm start)`);
    }
    io.stdout(out);
    return 0;
  }
  const ipvs = await deps.openBackend();
  try {
    if (cmd.view === 'timeout') {
      const t = await ipvs.getTimeouts();
      io.stdout(`Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpFin} ${t.udp}\n`);
      return 0;
    }
    if (cmd.view === 'daemon') {
      for (const d of await ipvs.listDaemons()) {
        io.stdout(`${d.state} sync daemon (mcast=${d.interface}, syncid=${d.syncId}` +
          `${d.maxLen ? `, maxlen=${d.maxLen}` : ''}${d.group ? `, group=${d.group}` : ''}` +
          `${d.port ? `, port=${d.port}` : ''}${d.ttl ? `, ttl=${d.ttl}` : ''})\n`);
      }
      return 0;
    }
    const info = await ipvs.info();
    const opts = { format: cmd.format, exact: cmd.exact, nosort: cmd.nosort };
    if (cmd.service) {
      const s = await ipvs.getService(cmd.service);
      const entry = { ...s, destinations: await ipvs.listDestinations(cmd.service) };
      io.stdout(formatList([entry], info, { ...opts, versionLine: false }));
    } else {
      // as `director list`: the default layout prints nothing /proc/net/ip_vs lacks but scheduler flags, so no
      // per-service dumps (when the file cannot be read or disagrees with the service dump, the full dump)
      const table = cmd.format === 'default' ? await listStructure(ipvs).catch(() => null) : null;
      if (table) printProcListing(table, { layout: 'list', info, nosort: cmd.nosort, emit: stdoutBytes(io) });
      else io.stdout(formatList(await ipvs.dump(), info, opts));
    }
    return 0;
  } finally {
    ipvs.close();
  }
}

/** What a write did, in words, for the line the CLI prints. */
export function describeWrite(cmd: WriteCommand): string {
  switch (cmd.kind) {
    case 'add-service': return `added virtual service ${formatService(cmd.spec)}`;
    case 'edit-service': return `edited virtual service ${formatService(cmd.spec)}`;
    case 'delete-service': return `deleted virtual service ${formatServiceKey(cmd.service)}`;
    case 'add-server': return `added real server ${formatDestination(cmd.destination)} to ${formatServiceKey(cmd.service)}`;
    case 'edit-server': return `edited real server ${formatDestination(cmd.destination)} of ${formatServiceKey(cmd.service)}`;
    case 'delete-server': return `deleted real server ${formatDestination(cmd.destination)} from ${formatServiceKey(cmd.service)}`;
    case 'zero': return cmd.service ? `zeroed the counters of ${formatServiceKey(cmd.service)}` : 'zeroed all counters';
    case 'clear': return 'cleared the table';
    case 'set-timeouts': return `set timeouts (tcp tcpfin udp, 0 kept): ${cmd.timeouts.tcp} ${cmd.timeouts.tcpFin} ${cmd.timeouts.udp}`;
    case 'start-daemon': return `started the ${cmd.config.state} sync daemon on ${cmd.config.interface}, syncid ${cmd.config.syncId}`;
    case 'stop-daemon': return `stopped the ${cmd.state} sync daemon`;
  }
}

/** The kernel itself, when no agent runs. */
export function kernelWriter(ipvs: IpvsBackend): Writer {
  return {
    async write(cmd) {
      switch (cmd.kind) {
        case 'add-service': await ipvs.addService(cmd.spec); break;
        case 'edit-service': await ipvs.updateService(cmd.spec); break;
        case 'delete-service': await ipvs.removeService(cmd.service); break;
        case 'add-server': await ipvs.addDestination(cmd.service, cmd.destination); break;
        case 'edit-server': await ipvs.updateDestination(cmd.service, cmd.destination); break;
        case 'delete-server': await ipvs.removeDestination(cmd.service, cmd.destination); break;
        case 'zero': await ipvs.zero(cmd.service); break;
        case 'clear': await ipvs.flush(); break;
        case 'set-timeouts': await ipvs.setTimeouts(cmd.timeouts); break;
        case 'start-daemon': await ipvs.startDaemon(cmd.config); break;
        case 'stop-daemon': await ipvs.stopDaemon(cmd.state); break;
      }
      return 'directly in the kernel (no agent runs here: not journaled)';
    },
    close: () => ipvs.close(),
  };
}

export async function runIpvsadm(argv: string[], io: CliIo, deps: IpvsadmDeps): Promise<number> {
  const cmd = await parseIpvsadmArgs(argv, deps.resolver());
  if (!('kind' in cmd)) {
    io.stderr(`director: ${formatCommandError(cmd)}\nnothing was changed; see director -h\n`);
    return 2;
  }
  switch (cmd.kind) {
    case 'help': io.stdout(USAGE); return 0;
    case 'version': io.stdout(`director ${VERSION} (ipvsadm syntax)\n`); return 0;
    case 'list': return list(cmd, io, deps);
    case 'save': {
      // exactly ipvsadm -Sn: no thresholds
      const { saveCommand } = await import('../snapshot/save-command');
      return saveCommand(['--no-thresholds'], io);
    }
    case 'restore': {
      const { restoreCommand } = await import('../snapshot/restore-command');
      return restoreCommand(['-'], io);
    }
    default: break;
  }
  if (!WRITE_KINDS.has(cmd.kind)) throw new Error(`unhandled command ${cmd.kind}`);
  const writer = (await deps.agentWriter()) ?? kernelWriter(await deps.openBackend());
  try {
    const how = await writer.write(cmd as WriteCommand);
    // stdout stays as quiet as ipvsadm's on success, for scripts
    io.stderr(`${describeWrite(cmd as WriteCommand)}: ${how}\n`);
    return 0;
  } finally {
    writer.close();
  }
}
