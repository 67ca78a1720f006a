/**
 * Parsers for /proc/net/ip_vs_stats and ip_vs_stats_percpu (reference §7.2), pure.
 * Totals of the network namespace since start or the last global ZERO, in hex.
 */
import type { Stats } from '../ipvs/model';
import { ProcParseError } from './ip-vs';

const HEX_FIELD = /^[0-9A-Fa-f]{1,16}$/;

/** Hex counter as a number; exact below 2^53 (see lib/ipvs/model.ts on why numbers). */
function hexNumber(text: string, file: string, line: number, raw: string): number {
  if (!HEX_FIELD.test(text)) throw new ProcParseError(file, line, `'${text}' is not a hex counter`, raw);
  return text.length <= 13 ? parseInt(text, 16) : Number(BigInt(`0x${text}`));
}

function fiveHex(raw: string, file: string, line: number, skip = 0): number[] {
  const f = raw.trim().split(/\s+/).slice(skip);
  if (f.length !== 5) throw new ProcParseError(file, line, 'expected 5 hex fields', raw);
  return f.map((x) => hexNumber(x, file, line, raw));
}

export function parseProcIpvsStats(text: string): Stats {
  const F = '/proc/net/ip_vs_stats';
  const lines = text.split('\n');
  // title, title, counters, blank, title, rates
  if (!/^\s*Total\s+Incoming\s+Outgoing/.test(lines[0] ?? '')) throw new ProcParseError(F, 1, 'unexpected title line', lines[0] ?? '');
  const [conns, inPkts, outPkts, inBytes, outBytes] = fiveHex(lines[2] ?? '', F, 3);
  if (!/^\s*Conns\/s\s+Pkts\/s/.test(lines[4] ?? '')) throw new ProcParseError(F, 5, 'unexpected rates title', lines[4] ?? '');
  const [cps, inPps, outPps, inBps, outBps] = fiveHex(lines[5] ?? '', F, 6);
  return {
    conns: conns!, inPkts: inPkts!, outPkts: outPkts!, inBytes: inBytes!, outBytes: outBytes!,
    cps: cps!, inPps: inPps!, outPps: outPps!, inBps: inBps!, outBps: outBps!,
  };
}

export interface PerCpuStats {
  /** Counters per CPU (rates are only kept for the total). */
  cpus: { cpu: number; stats: Omit<Stats, 'cps' | 'inPps' | 'outPps' | 'inBps' | 'outBps'> }[];
  total: Stats;
}

export function parseProcIpvsStatsPercpu(text: string): PerCpuStats {
  const F = '/proc/net/ip_vs_stats_percpu';
  const lines = text.split('\n');
  const cpus: PerCpuStats['cpus'] = [];
  let n = 2;
  for (; n < lines.length; n++) {
    const raw = lines[n]!;
    if (/^\s*~/.test(raw)) break;
    const f = raw.trim().split(/\s+/);
    if (!/^[0-9A-Fa-f]+$/.test(f[0] ?? '')) throw new ProcParseError(F, n + 1, 'expected a CPU line', raw);
    const [conns, inPkts, outPkts, inBytes, outBytes] = fiveHex(raw, F, n + 1, 1);
    cpus.push({ cpu: parseInt(f[0]!, 16), stats: { conns: conns!, inPkts: inPkts!, outPkts: outPkts!, inBytes: inBytes!, outBytes: outBytes! } });
  }
  if (n >= lines.length) throw new ProcParseError(F, n, 'missing totals line', '');
  const [conns, inPkts, outPkts, inBytes, outBytes] = fiveHex(lines[n]!, F, n + 1, 1);
  const rateLine = lines.slice(n + 1).findIndex((l) => /Conns\/s/.test(l));
  if (rateLine < 0) throw new ProcParseError(F, n + 2, 'missing rates', '');
  const r = n + 1 + rateLine + 1;
  const [cps, inPps, outPps, inBps, outBps] = fiveHex(lines[r] ?? '', F, r + 1);
  return {
    cpus,
    total: {
      conns: conns!, inPkts: inPkts!, outPkts: outPkts!, inBytes: inBytes!, outBytes: outBytes!,
      cps: cps!, inPps: inPps!, outPps: outPps!, inBps: inBps!, outBps: outBps!,
    },
  };
}
