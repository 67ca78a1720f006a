/**
 * Reads /proc/net/ip_vs and /proc/net/ip_vs_stats of the agent's network
 * namespace. Both files are small next to ip_vs_conn (one line per service
 * and destination), so a whole-file read is fine here.
 */
import { readFile } from 'node:fs/promises';
import { type ProcIpvs, parseProcIpvs } from '@/lib/proc/ip-vs';
import { parseProcIpvsStats } from '@/lib/proc/ip-vs-stats';
import type { Stats } from '@/lib/ipvs/model';

export interface ProcReadOptions {
  /** Directory holding ip_vs, ip_vs_stats (tests point it elsewhere). */
  dir?: string;
  signal?: AbortSignal;
}

/** `hz`: the kernel's CONFIG_HZ, needed to turn persistence jiffies into seconds. */
export async function readProcIpvs(hz: number, { dir = '/proc/net', signal }: ProcReadOptions = {}): Promise<ProcIpvs> {
  return parseProcIpvs(await readFile(`${dir}/ip_vs`, { encoding: 'latin1', signal }), hz);
}

export async function readProcIpvsStats({ dir = '/proc/net', signal }: ProcReadOptions = {}): Promise<Stats> {
  return parseProcIpvsStats(await readFile(`${dir}/ip_vs_stats`, { encoding: 'latin1', signal }));
}
