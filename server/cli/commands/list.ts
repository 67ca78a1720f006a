/**
 * director list [-n] [--stats|--rate|--thresholds|--persistent-conn] [--exact] [--nosort] [--json]
 * director list --timeout | --daemon
 * Like `ipvsadm -Ln` (always numeric); --json prints the full model.
 */
import { formatList, type ListFormat } from '../../../lib/ipvs/list-format';
import { printProcListing } from '../../../lib/proc/ip-vs-listing';
import { listStructure } from '../../ipvs/fast-list';
import { openIpvs } from '../../ipvs/open';
import { stdoutBytes, type CliIo } from '../io';

const FORMATS: Record<string, ListFormat> = {
  '--stats': 'stats', '--rate': 'rate', '--thresholds': 'thresholds', '--persistent-conn': 'persistent-conn',
};

const USAGE = `usage: director list [-n] [--stats|--rate|--thresholds|--persistent-conn] [--exact] [--nosort] [--json]
       director list --timeout | --daemon
  Prints the IPVS table like \`ipvsadm -Ln\` (always numeric); --json prints the full model.
`;

/**
 * Characters per piece of `--json` output: the text of 10,000 × 4 with counters (18 MB) is never one string.
 * A piece this size is flattened and encoded in memory the heap and malloc hand out again; pieces of ~1 MB
 * took fresh pages each time, and in the lab kernel every fresh page is a trap.
 */
export const JSON_PIECE = 64 * 1024;

/** `JSON.stringify({ info, services })` and a newline, byte for byte, handed to stdout in pieces as the services come. */
export function jsonWriter(info: unknown, io: CliIo): { add(service: unknown): void; end(): void } {
  let piece = `{"info":${JSON.stringify(info)},"services":[`;
  let n = 0;
  return {
    add(service) {
      piece += (n++ > 0 ? ',' : '') + JSON.stringify(service);
      if (piece.length >= JSON_PIECE) {
        io.stdout(piece);
        piece = '';
      }
    },
    end: () => io.stdout(`${piece}]}\n`),
  };
}

export default async function list(args: string[], io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(USAGE);
    return 0;
  }
  let format: ListFormat = 'default';
  let exact = false, json = false, nosort = false, timeout = false, daemon = false;
  for (const a of args) {
    if (a in FORMATS) {
      // ipvsadm's precedence: stats > rate > thresholds > persistent-conn
      const order: ListFormat[] = ['stats', 'rate', 'thresholds', 'persistent-conn', 'default'];
      const f = FORMATS[a]!;
      if (order.indexOf(f) < order.indexOf(format)) format = f;
    } else if (a === '--exact' || a === '-X') exact = true;
    else if (a === '--json') json = true;
    else if (a === '--nosort') nosort = true;
    else if (a === '--timeout') timeout = true;
    else if (a === '--daemon') daemon = true;
    else if (a === '-n' || a === '--numeric' || a === '--sort') { /* always numeric and sorted */ }
    else {
      io.stderr(`director list: unknown option '${a}'\n${USAGE}`);
      return 2;
    }
  }
  // one read of the table: nothing to keep for a next dump
  const ipvs = await openIpvs({ reuse: false });
  try {
    if (timeout) {
      const t = await ipvs.getTimeouts();
      io.stdout(json ? `${JSON.stringify(t)}\n` : `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpFin} ${t.udp}\n`);
      return 0;
    }
    if (daemon) {
      const ds = await ipvs.listDaemons();
      if (json) io.stdout(`${JSON.stringify(ds)}\n`);
      else for (const d of ds) {
        io.stdout(`${d.state} sync daemon (mcast=${d.interface}, syncid=${d.syncId}` +
          `${d.maxLen ? `, maxlen=${d.maxLen}` : ''}${d.group ? `, group=${d.group}` : ''}` +
          `${d.port ? `, port=${d.port}` : ''}${d.ttl ? `, ttl=${d.ttl}` : ''})\n`);
      }
      return 0;
    }
    const opts = { format, exact, nosort, emit: (text: string) => { io.stdout(text); } };
    // The default layout prints nothing /proc/net/ip_vs lacks but scheduler flags: skip the per-service dumps.
    if (format === 'default' && !json) {
      const [info, table] = await Promise.all([ipvs.info(), listStructure(ipvs)]);
      if (table) {
        printProcListing(table, { layout: 'list', info, nosort, emit: stdoutBytes(io) });
        return 0;
      }
    }
    const info = await ipvs.info();
    if (json) {
      // in kernel order, as read: nothing to sort, so nothing to hold
      const out = jsonWriter(info, io);
      await ipvs.dump((entry) => out.add(entry));
      out.end();
    } else formatList(await ipvs.dump(), info, opts);
    return 0;
  } finally {
    ipvs.close();
  }
}
