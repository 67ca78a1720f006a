/**
 * /proc/net/ip_vs parsed again and again (the agent reads it every tick), pure.
 *
 * Between two reads most service blocks (a service line and its real servers'
 * lines) are the same text: under traffic only the busy services' connection
 * counts move. A block whose text was in the previous parse gives that parse's
 * object, so a read parses only the blocks that changed (the caller skips the
 * parse altogether when the bytes are the same). Everything returned is frozen.
 */
import { ProcParseError, parseProcIpvs, type ProcIpvs, type ProcService } from './ip-vs';

export interface ProcIpvsParse {
  readonly proc: ProcIpvs;
  /** each block's text and what it parsed to */
  readonly blocks: ReadonlyMap<string, readonly ProcService[]>;
}

/** The file's bytes are ASCII; a block is decoded on its own, so no read makes one large string. */
const latin1 = new TextDecoder('latin1');

/** `bytes` (the whole file) parsed, reusing the blocks of `prev` (the parse of an earlier read, or null). HZ is taken as 1: timeouts stay in jiffies. */
export function reparseProcIpvs(bytes: Uint8Array, prev: ProcIpvsParse | null): ProcIpvsParse {
  let at = 0;
  for (let n = 0; n < 3 && at < bytes.length; n++) at = lineEnd(bytes, at);
  const head = latin1.decode(bytes.subarray(0, at));
  const base = parseProcIpvs(head, 1);
  const blocks = new Map<string, readonly ProcService[]>();
  const services: ProcService[] = [];
  let line = 3; // lines before the block
  while (at < bytes.length) {
    const start = at;
    let lines = 0;
    do {
      at = lineEnd(bytes, at);
      lines++;
    } while (at < bytes.length && bytes[at] === 32); // real servers' lines are indented
    const block = latin1.decode(bytes.subarray(start, at));
    let parsed = blocks.get(block) ?? prev?.blocks.get(block);
    if (!parsed) parsed = parseBlock(head, block, line);
    blocks.set(block, parsed);
    for (const s of parsed) services.push(s);
    line += lines;
  }
  return Object.freeze({ proc: Object.freeze({ ...base, services: Object.freeze(services) as ProcService[] }), blocks });
}

function lineEnd(bytes: Uint8Array, from: number): number {
  const nl = bytes.indexOf(10, from);
  return nl < 0 ? bytes.length : nl + 1;
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
