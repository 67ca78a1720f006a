/**
 * An ipvsadm command line (`director -A -t 10.0.0.1:80 -s rr`, `director -Lcn`)
 * read into one command, with ipvsadm's grammar (reference §8.1): the popt-like
 * option reader the snapshot parser uses (bundles, `--opt=value`, `-p` with an
 * optional value), ipvsadm's per-command option table, its defaults, and every
 * check a restore line gets. Each word of argv is one word: no shell, no splitting.
 * A bad command names the option at fault and is refused before anything runs.
 */
import type { DestinationKey, DestinationSpec, ServiceKey, ServiceSpec, SyncDaemonConfig, SyncState, Timeouts } from '../ipvs/model';
import { IpvsError } from '../ipvs/errors';
import { SYNC_ID, SYNC_MAXLEN, SYNC_PORT, SYNC_TTL } from '../ipvs/rules';
import { validateDaemonConfig } from '../ipvs/validate';
import type { ListFormat } from '../ipvs/list-format';
import { parseLineOptions, type ParsedLine, type ParsedOption } from '../snapshot/argv';
import { readCommandObjects } from '../snapshot/parse';
import { numericOnly, type NameResolver } from '../snapshot/resolve';

export type ListView = 'table' | 'connections' | 'timeout' | 'daemon';

export type IpvsadmCommand =
  | { kind: 'add-service'; spec: ServiceSpec }
  | { kind: 'edit-service'; spec: ServiceSpec }
  | { kind: 'delete-service'; service: ServiceKey }
  | { kind: 'add-server'; service: ServiceKey; destination: DestinationSpec }
  | { kind: 'edit-server'; service: ServiceKey; destination: DestinationSpec }
  | { kind: 'delete-server'; service: ServiceKey; destination: DestinationKey }
  | { kind: 'zero'; service?: ServiceKey }
  | { kind: 'clear' }
  /** 0 keeps a value, as the kernel does */
  | { kind: 'set-timeouts'; timeouts: Timeouts }
  | { kind: 'start-daemon'; config: SyncDaemonConfig }
  | { kind: 'stop-daemon'; state: SyncState }
  | {
    kind: 'list'; view: ListView; format: ListFormat; exact: boolean; nosort: boolean;
    /** -c with --persistent-conn: the PE columns */
    peColumns: boolean;
    service?: ServiceKey;
  }
  | { kind: 'save' }
  | { kind: 'restore' }
  | { kind: 'help' }
  | { kind: 'version' };

/** A refused command line: the argument (1-based position in argv) and option at fault, and why. */
export interface CommandError { argument?: number; option?: string; message: string }

export const WRITE_KINDS = new Set<IpvsadmCommand['kind']>([
  'add-service', 'edit-service', 'delete-service', 'add-server', 'edit-server', 'delete-server',
  'zero', 'clear', 'set-timeouts', 'start-daemon', 'stop-daemon',
]);

/** `-w 70000: weight 70000 out of range 0..2147483647`: the option as typed, then why. */
export function formatCommandError(e: CommandError): string {
  return e.option ? `${e.option}: ${e.message}` : e.message;
}

class Refused extends Error {
  constructor(readonly o: ParsedOption | undefined, message: string) { super(message); }
}
const refuse = (o: ParsedOption | undefined, message: string): never => { throw new Refused(o, message); };

function spelledAt(pl: ParsedLine, argument: number | undefined): string | undefined {
  if (argument === undefined) return undefined;
  const o = pl.options.find((x) => x.column === argument);
  if (o) return o.value !== undefined ? `${o.spelled} ${o.value}` : o.spelled;
  return argument === pl.commandColumn ? undefined : undefined;
}

function intOption(o: ParsedOption, name: string, min: number, max: number): number {
  const text = o.value ?? '';
  if (!/^\d{1,10}$/.test(text)) refuse(o, `${name} '${text}' is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) refuse(o, `${name} ${n} out of range ${min}..${max}`);
  return n;
}

const opt = (pl: ParsedLine, id: string) => pl.options.find((o) => o.id === id);
const has = (pl: ParsedLine, id: string) => pl.options.some((o) => o.id === id);

function syncState(pl: ParsedLine, spelled: string): SyncState {
  const v = pl.commandValue ?? '';
  if (v !== 'master' && v !== 'backup') {
    throw new Refused({ id: pl.command, value: v, column: pl.commandColumn, spelled }, `expected master or backup, not '${v}'`);
  }
  return v;
}

function listCommand(pl: ParsedLine, service: ServiceKey | undefined): IpvsadmCommand {
  const views = (['c', 'timeout', 'daemon'] as const).filter((id) => has(pl, id));
  const shown = [...views.map((id) => opt(pl, id)!), ...(service ? [pl.options.find((o) => ['t', 'u', 'sctp', 'f'].includes(o.id))!] : [])];
  if (shown.length > 1) refuse(shown[1], `conflicts with '${shown[0]!.spelled}': list one of the table, a service, -c, --timeout or --daemon`);
  const view: ListView = has(pl, 'c') ? 'connections' : has(pl, 'timeout') ? 'timeout' : has(pl, 'daemon') ? 'daemon' : 'table';
  // ipvsadm's precedence among the extra formats
  const format: ListFormat = has(pl, 'stats') ? 'stats' : has(pl, 'rate') ? 'rate' : has(pl, 'thresholds') ? 'thresholds'
    : has(pl, 'persistent-conn') ? 'persistent-conn' : has(pl, 'tun-info') ? 'tun-info' : 'default';
  if (view !== 'table') {
    const extra = pl.options.find((o) => o.id === 'stats' || o.id === 'rate' || o.id === 'thresholds');
    if (extra) refuse(extra, `options conflicts in the list command: not with '${opt(pl, view === 'connections' ? 'c' : view)!.spelled}'`);
    if (view !== 'connections' && has(pl, 'persistent-conn')) refuse(opt(pl, 'persistent-conn'), `options conflicts in the list command: not with --${view}`);
  }
  return {
    kind: 'list', view, format, exact: has(pl, 'X'), nosort: has(pl, 'nosort'),
    peColumns: view === 'connections' && has(pl, 'persistent-conn'), ...(service ? { service } : {}),
  };
}

function daemonConfig(pl: ParsedLine): SyncDaemonConfig {
  const state = syncState(pl, '--start-daemon');
  const ifo = opt(pl, 'mcast-interface');
  const cfg: SyncDaemonConfig = {
    state,
    // ipvsadm's own default interface
    interface: ifo?.value ?? 'eth0',
    syncId: opt(pl, 'syncid') ? intOption(opt(pl, 'syncid')!, 'sync id', SYNC_ID.min, SYNC_ID.max) : 0,
  };
  const ml = opt(pl, 'sync-maxlen');
  if (ml) cfg.maxLen = intOption(ml, 'sync maxlen', SYNC_MAXLEN.min, SYNC_MAXLEN.max);
  const port = opt(pl, 'mcast-port');
  if (port) cfg.port = intOption(port, 'multicast port', SYNC_PORT.min, SYNC_PORT.max);
  const ttl = opt(pl, 'mcast-ttl');
  if (ttl) cfg.ttl = intOption(ttl, 'multicast ttl', SYNC_TTL.min, SYNC_TTL.max);
  const group = opt(pl, 'mcast-group');
  if (group) cfg.group = group.value ?? '';
  try {
    validateDaemonConfig(cfg);
  } catch (e) {
    if (!(e instanceof IpvsError)) throw e;
    const at = /interface/.test(e.message) ? ifo : /group/.test(e.message) ? group : undefined;
    refuse(at, e.message);
  }
  return cfg;
}

function timeouts(pl: ParsedLine): Timeouts {
  const words = pl.positionals;
  if (words.length !== 3) {
    throw new Refused({ id: 'set', value: undefined, column: pl.commandColumn, spelled: '--set' },
      `needs 3 timeout values in seconds (tcp tcpfin udp; 0 keeps a value), got ${words.length}`);
  }
  const [tcp, tcpFin, udp] = words.map((w, i) => intOption(
    { id: 'set', value: w.text, column: w.column, spelled: '--set' }, ['tcp', 'tcpfin', 'udp'][i]! + ' timeout', 0, 2147483));
  return { tcp: tcp!, tcpFin: tcpFin!, udp: udp! };
}

/** Reads argv (without the program name) as ipvsadm would; nothing is looked up unless `resolver` does it. */
export async function parseIpvsadmArgs(argv: readonly string[], resolver: NameResolver = numericOnly): Promise<IpvsadmCommand | CommandError> {
  const words = argv.map((text, i) => ({ text, column: i + 1 }));
  const pl = parseLineOptions(1, words, 'command');
  if ('message' in pl) {
    const word = pl.column !== undefined ? argv[pl.column - 1] : undefined;
    return { ...(pl.column !== undefined ? { argument: pl.column } : {}), ...(word !== undefined ? { option: word } : {}), message: pl.message };
  }
  try {
    const objects = await readCommandObjects(pl, resolver);
    if ('message' in objects) {
      const option = spelledAt(pl, objects.column);
      return { ...(objects.column !== undefined ? { argument: objects.column } : {}), ...(option ? { option } : {}), message: objects.message };
    }
    const { service, spec, destination } = objects;
    switch (pl.command) {
      case 'A': return { kind: 'add-service', spec: spec! };
      case 'E': return { kind: 'edit-service', spec: spec! };
      case 'D': return { kind: 'delete-service', service: service! };
      case 'a': return { kind: 'add-server', service: service!, destination: destination! };
      case 'e': return { kind: 'edit-server', service: service!, destination: destination! };
      case 'd': {
        const { family, address, port } = destination!;
        return { kind: 'delete-server', service: service!, destination: { family, address, port } };
      }
      case 'Z': return { kind: 'zero', ...(service ? { service } : {}) };
      case 'C': return { kind: 'clear' };
      case 'set': return { kind: 'set-timeouts', timeouts: timeouts(pl) };
      case 'start-daemon': return { kind: 'start-daemon', config: daemonConfig(pl) };
      case 'stop-daemon': return { kind: 'stop-daemon', state: syncState(pl, '--stop-daemon') };
      case 'L': case 'l': return listCommand(pl, service);
      case 'S': return { kind: 'save' };
      case 'R': return { kind: 'restore' };
      case 'h': return { kind: 'help' };
      case 'v': return { kind: 'version' };
      default: return { message: `unknown command '${pl.command}'` };
    }
  } catch (e) {
    if (!(e instanceof Refused)) throw e;
    return {
      ...(e.o ? { argument: e.o.column, option: e.o.value !== undefined ? `${e.o.spelled} ${e.o.value}` : e.o.spelled } : {}),
      message: e.message,
    };
  }
}
