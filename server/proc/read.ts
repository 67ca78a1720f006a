/**
 * Reads /proc/net/ip_vs and /proc/net/ip_vs_stats of the agent's network
 * namespace. Both files are small next to ip_vs_conn (one line per service
 * and destination), so a whole-file read is fine here.
 */
import { closeSync, openSync, readSync } from 'node:fs';
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

/**
 * A /proc text file read whole with blocking reads into one buffer, as bytes (parsed in place, never made a
 * string). The kernel hands out /proc/net/ip_vs one seq_file page (4 kB) per read(), walking its tables
 * from the first service each time: at 10,000 services that is about 670 reads, and fs.readFile makes each
 * one through the thread pool, a hand-over that user-mode Linux makes slow.
 */
export function readProcFile(path: string): Uint8Array {
  // Large enough for 10,000 services × 4 real servers (2.7 MB) without growing: growing copies what was read,
  // while the pages of an uninitialised buffer are only touched as the file fills them.
  let buf = Buffer.allocUnsafe(8 << 20);
  let n = 0;
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      if (n === buf.length) {
        const grown = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(grown, 0, 0, n);
        buf = grown;
      }
      // position null: /proc files have no size and no stable offsets
      const k = readSync(fd, buf, n, buf.length - n, null);
      if (k === 0) break;
      n += k;
    }
  } finally {
    closeSync(fd);
  }
  return buf.subarray(0, n);
}
