/**
 * /proc/net/ip_vs parsed again and again (the agent reads it every tick), pure.
 *
 * Between two reads most service blocks (a service line and its real servers'
 * lines) are the same bytes: under traffic only the busy services' connection
 * counts move. A block whose bytes are those of the previous parse's block at
 * the same place gives that parse's object without being decoded; a block whose
 * service line moved (a service added or removed before it) is looked up by its
 * text among the previous parse's blocks. Only what changed is parsed.
 * Everything returned is frozen.
 */
import { ProcParseError, parseProcIpvs, type ProcIpvs, type ProcService } from './ip-vs';

export interface ProcIpvsParse {
  readonly proc: ProcIpvs;
  /** the bytes parsed: the caller leaves them as they are until the next reparse has used them */
  readonly bytes: Uint8Array;
  /** each block's end in `bytes` (it starts where the one before ends, the first at `headEnd`) and its services */
  readonly headEnd: number;
  readonly ends: readonly number[];
  readonly parsed: readonly (readonly ProcService[])[];
}

/** The file's bytes are ASCII; a block is decoded on its own, so no read makes one large string. */
const latin1 = new TextDecoder('latin1');

/**
 * `bytes` (the whole file) parsed, reusing the blocks of `prev` (the parse of the read before, its bytes
 * unchanged, or null). HZ is taken as 1: timeouts stay in jiffies.
 */
export function reparseProcIpvs(bytes: Uint8Array, prev: ProcIpvsParse | null): ProcIpvsParse {
  let at = 0;
  for (let n = 0; n < 3 && at < bytes.length; n++) at = lineEnd(bytes, at);
  const headEnd = at;
  const head = latin1.decode(bytes.subarray(0, at));
  const base = parseProcIpvs(head, 1);
  const ends: number[] = [];
  const parsed: (readonly ProcService[])[] = [];
  const services: ProcService[] = [];
  let byText: Map<string, readonly ProcService[]> | null = null;
  let line = 3; // lines before the block
  while (at < bytes.length) {
    const start = at;
    let lines = 0;
    do {
      at = lineEnd(bytes, at);
      lines++;
    } while (at < bytes.length && bytes[at] === 32); // real servers' lines are indented
    const j = ends.length;
    const pStart = prev ? (j === 0 ? prev.headEnd : prev.ends[j - 1]!) : 0;
    const pEnd = prev && j < prev.ends.length ? prev.ends[j]! : -1;
    let blocks: readonly ProcService[] | undefined;
    if (pEnd >= 0 && same(bytes, start, at, prev!.bytes, pStart, pEnd)) blocks = prev!.parsed[j];
    else if (prev && !(pEnd >= 0 && sameFirstLine(bytes, start, prev.bytes, pStart))) {
      // not the service that was here: one from elsewhere in the previous read, or a new one
      byText ??= blockTexts(prev);
      blocks = byText.get(latin1.decode(bytes.subarray(start, at)));
    }
    blocks ??= parseBlock(head, latin1.decode(bytes.subarray(start, at)), line);
    ends.push(at);
    parsed.push(blocks);
    for (const s of blocks) services.push(s);
    line += lines;
  }
  return Object.freeze({
    proc: Object.freeze({ ...base, services: Object.freeze(services) as ProcService[] }),
    bytes, headEnd, ends: Object.freeze(ends), parsed: Object.freeze(parsed),
  });
}

function lineEnd(bytes: Uint8Array, from: number): number {
  const nl = bytes.indexOf(10, from);
  return nl < 0 ? bytes.length : nl + 1;
}

function same(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = aStart, j = bStart; i < aEnd; i++, j++) if (a[i] !== b[j]) return false;
  return true;
}

/** The two blocks start with the same service line. */
function sameFirstLine(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number): boolean {
  for (let i = aStart, j = bStart; i < a.length && j < b.length; i++, j++) {
    if (a[i] !== b[j]) return false;
    if (a[i] === 10) return true;
  }
  return false;
}

/** The previous parse's blocks by their text. */
function blockTexts(p: ProcIpvsParse): Map<string, readonly ProcService[]> {
  const m = new Map<string, readonly ProcService[]>();
  let start = p.headEnd;
  for (let j = 0; j < p.ends.length; j++) {
    m.set(latin1.decode(p.bytes.subarray(start, p.ends[j]!)), p.parsed[j]!);
    start = p.ends[j]!;
  }
  return m;
}

/** One block after the title lines; an error names the line in the whole file. */
function parseBlock(head: string, block: string, linesBefore: number): readonly ProcService[] {
  let parsed: ProcService[];
  try {
    parsed = parseProcIpvs(head + block, 1).services;
  } catch (e) {
    if (!(e instanceof ProcParseError)) throw e;
    throw new ProcParseError(e.file, e.line - 3 + linesBefore, e.message.replace(/^.*? line \d+: (.*): '.*'$/s, '$1'), e.text);
  }
  for (const s of parsed) {
    Object.freeze(s.key);
    for (const d of s.destinations) Object.freeze(d);
    Object.freeze(s.destinations);
    Object.freeze(s);
  }
  return Object.freeze(parsed);
}
