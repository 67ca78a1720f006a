/**
 * /proc/net/ip_vs parsed again and again (the agent reads it every tick), pure.
 *
 * Between two reads most service blocks (a service line and its real servers'
 * lines) are the same text: under traffic only the busy services' connection
 * counts move. A block whose text was in the previous parse gives that parse's
 * object, so a read parses only the blocks that changed, and identical text
 * gives the previous parse itself. Everything returned is frozen.
 */
import { ProcParseError, parseProcIpvs, type ProcIpvs, type ProcService } from './ip-vs';

export interface ProcIpvsParse {
  readonly text: string;
  readonly proc: ProcIpvs;
  /** each block's text and what it parsed to */
  readonly blocks: ReadonlyMap<string, readonly ProcService[]>;
}

/** `text` parsed, reusing the blocks of `prev` (the parse of an earlier read, or null). HZ is taken as 1: timeouts stay in jiffies. */
export function reparseProcIpvs(text: string, prev: ProcIpvsParse | null): ProcIpvsParse {
  if (prev && prev.text === text) return prev;
  let at = 0;
  for (let n = 0; n < 3 && at < text.length; n++) at = lineEnd(text, at);
  const head = text.slice(0, at);
  const base = parseProcIpvs(head, 1);
  const blocks = new Map<string, readonly ProcService[]>();
  const services: ProcService[] = [];
  let line = 3; // lines before the block
  while (at < text.length) {
    const start = at;
    let lines = 0;
    do {
      at = lineEnd(text, at);
      lines++;
    } while (at < text.length && text.charCodeAt(at) === 32); // real servers' lines are indented
    const block = text.slice(start, at);
    let parsed = blocks.get(block) ?? prev?.blocks.get(block);
    if (!parsed) parsed = parseBlock(head, block, line);
    blocks.set(block, parsed);
    for (const s of parsed) services.push(s);
    line += lines;
  }
  return Object.freeze({ text, proc: Object.freeze({ ...base, services: Object.freeze(services) as ProcService[] }), blocks });
}

function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  return nl < 0 ? text.length : nl + 1;
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
