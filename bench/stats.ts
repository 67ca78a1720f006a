/** Small helpers every bench script shares (the lab suite, its sections, the host side). */
import { readFileSync } from 'node:fs';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/**
 * A /proc/PID/stat file: the command name, and the fields after it (field N, 1-based, is at N - 3:
 * utime 14 at 11, stime 15 at 12, cutime 16 at 13, cstime 17 at 14, starttime 22 at 19, rss 24 at 21).
 */
export function procStat(file: string): { comm: string; fields: string[] } {
  const s = readFileSync(file, 'utf8');
  return { comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')), fields: s.slice(s.lastIndexOf(')') + 2).split(' ') };
}
