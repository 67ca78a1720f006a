/**
 * One snapshot line -> words -> options, the way `ipvsadm -R` (config_stream
 * + popt) reads it: words split on blanks, every word `ipvsadm` dropped,
 * short options bundled (`-At`), short arguments attached (`-w5`), long
 * options with `=value`, `-p` with an optional argument. Director also takes
 * blank lines and `#` comments (ipvsadm does not).
 */

export interface Word { text: string; column: number }
export interface LineError { line: number; column?: number; message: string }

type ArgKind = 'none' | 'required' | 'optional';
interface OptionDef { id: string; long: string; short?: string; arg: ArgKind; command?: boolean }

const DEFS: OptionDef[] = [
  // commands
  { id: 'A', long: 'add-service', short: 'A', arg: 'none', command: true },
  { id: 'E', long: 'edit-service', short: 'E', arg: 'none', command: true },
  { id: 'D', long: 'delete-service', short: 'D', arg: 'none', command: true },
  { id: 'C', long: 'clear', short: 'C', arg: 'none', command: true },
  { id: 'R', long: 'restore', short: 'R', arg: 'none', command: true },
  { id: 'S', long: 'save', short: 'S', arg: 'none', command: true },
  { id: 'a', long: 'add-server', short: 'a', arg: 'none', command: true },
  { id: 'e', long: 'edit-server', short: 'e', arg: 'none', command: true },
  { id: 'd', long: 'delete-server', short: 'd', arg: 'none', command: true },
  { id: 'L', long: 'list', short: 'L', arg: 'none', command: true },
  { id: 'l', long: 'list', short: 'l', arg: 'none', command: true },
  { id: 'Z', long: 'zero', short: 'Z', arg: 'none', command: true },
  { id: 'set', long: 'set', arg: 'none', command: true },
  { id: 'start-daemon', long: 'start-daemon', arg: 'required', command: true },
  { id: 'stop-daemon', long: 'stop-daemon', arg: 'required', command: true },
  { id: 'h', long: 'help', short: 'h', arg: 'none', command: true },
  { id: 'v', long: 'version', short: 'v', arg: 'none', command: true },
  // options a snapshot uses
  { id: 't', long: 'tcp-service', short: 't', arg: 'required' },
  { id: 'u', long: 'udp-service', short: 'u', arg: 'required' },
  { id: 'sctp', long: 'sctp-service', arg: 'required' },
  { id: 'f', long: 'fwmark-service', short: 'f', arg: 'required' },
  { id: 's', long: 'scheduler', short: 's', arg: 'required' },
  { id: 'p', long: 'persistent', short: 'p', arg: 'optional' },
  { id: 'M', long: 'netmask', short: 'M', arg: 'required' },
  { id: 'r', long: 'real-server', short: 'r', arg: 'required' },
  { id: 'm', long: 'masquerading', short: 'm', arg: 'none' },
  { id: 'i', long: 'ipip', short: 'i', arg: 'none' },
  { id: 'g', long: 'gatewaying', short: 'g', arg: 'none' },
  { id: 'w', long: 'weight', short: 'w', arg: 'required' },
  { id: 'x', long: 'u-threshold', short: 'x', arg: 'required' },
  { id: 'y', long: 'l-threshold', short: 'y', arg: 'required' },
  { id: '6', long: 'ipv6', short: '6', arg: 'none' },
  { id: 'o', long: 'ops', short: 'o', arg: 'none' },
  { id: 'pe', long: 'pe', arg: 'required' },
  { id: 'b', long: 'sched-flags', short: 'b', arg: 'required' },
  { id: 'tun-type', long: 'tun-type', arg: 'required' },
  { id: 'tun-port', long: 'tun-port', arg: 'required' },
  { id: 'tun-nocsum', long: 'tun-nocsum', arg: 'none' },
  { id: 'tun-csum', long: 'tun-csum', arg: 'none' },
  { id: 'tun-remcsum', long: 'tun-remcsum', arg: 'none' },
  // options ipvsadm knows that have no place in a snapshot line
  { id: 'n', long: 'numeric', short: 'n', arg: 'none' },
  { id: 'c', long: 'connection', short: 'c', arg: 'none' },
  { id: 'X', long: 'exact', short: 'X', arg: 'none' },
  { id: 'mcast-interface', long: 'mcast-interface', arg: 'required' },
  { id: 'syncid', long: 'syncid', arg: 'required' },
  { id: 'timeout', long: 'timeout', arg: 'none' },
  { id: 'daemon', long: 'daemon', arg: 'none' },
  { id: 'stats', long: 'stats', arg: 'none' },
  { id: 'rate', long: 'rate', arg: 'none' },
  { id: 'thresholds', long: 'thresholds', arg: 'none' },
  { id: 'persistent-conn', long: 'persistent-conn', arg: 'none' },
  { id: 'nosort', long: 'nosort', arg: 'none' },
  { id: 'sort', long: 'sort', arg: 'none' },
  { id: 'mcast-group', long: 'mcast-group', arg: 'required' },
  { id: 'mcast-port', long: 'mcast-port', arg: 'required' },
  { id: 'mcast-ttl', long: 'mcast-ttl', arg: 'required' },
  { id: 'sync-maxlen', long: 'sync-maxlen', arg: 'required' },
  { id: 'tun-info', long: 'tun-info', arg: 'none' },
];

const SERVICE_OPTS = ['t', 'u', 'sctp', 'f', '6'];
const LIST_OPTS = ['n', 'c', 'timeout', 'daemon', 'stats', 'rate', 'thresholds', 'persistent-conn', 'tun-info',
  'nosort', 'sort', 'X', 'syncid'];
const DAEMON_OPTS = ['mcast-interface', 'syncid', 'mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen'];

/** What each command may carry (ipvsadm's commands_v_options, reference §8.1). */
const ALLOWED: Record<string, ReadonlySet<string>> = {
  A: new Set([...SERVICE_OPTS, 's', 'p', 'M', 'pe', 'b', 'o']),
  E: new Set([...SERVICE_OPTS, 's', 'p', 'M', 'pe', 'b', 'o']),
  D: new Set(SERVICE_OPTS),
  a: new Set([...SERVICE_OPTS, 'r', 'm', 'i', 'g', 'w', 'x', 'y', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum']),
  e: new Set([...SERVICE_OPTS, 'r', 'm', 'i', 'g', 'w', 'x', 'y', 'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum']),
  d: new Set([...SERVICE_OPTS, 'r']),
  L: new Set([...SERVICE_OPTS, ...LIST_OPTS]),
  l: new Set([...SERVICE_OPTS, ...LIST_OPTS]),
  S: new Set(['n']),
  Z: new Set(SERVICE_OPTS),
  C: new Set(), R: new Set(), set: new Set(), h: new Set(), v: new Set(),
  'start-daemon': new Set(DAEMON_OPTS),
  'stop-daemon': new Set(['syncid']),
};

/** How a command reads in messages. */
export const COMMAND_NAMES: Record<string, string> = {
  A: '-A (add service)', E: '-E (edit service)', D: '-D (delete service)', a: '-a (add real server)',
  e: '-e (edit real server)', d: '-d (delete real server)', L: '-L (list)', l: '-l (list)', S: '-S (save)',
  Z: '-Z (zero counters)', C: '-C (clear)', R: '-R (restore)', set: '--set (timeouts)', h: '-h (help)', v: '-v (version)',
  'start-daemon': '--start-daemon', 'stop-daemon': '--stop-daemon',
};

/** Options that ipvsadm counts as one (set_option on the same bit). */
const GROUP: Record<string, string> = { t: 'service', u: 'service', sctp: 'service', f: 'service', m: 'forward', i: 'forward', g: 'forward' };

/** A definition with what every line asks of it worked out once (a 50,000-line restore asks 400,000 times). */
interface Def extends OptionDef {
  shortSpelled: string;
  longSpelled: string;
  group: string;
  allowed: Record<string, boolean>;
}
const DEFS_READY: Def[] = DEFS.map((d) => ({
  ...d, shortSpelled: d.short ? `-${d.short}` : '', longSpelled: `--${d.long}`, group: GROUP[d.id] ?? d.id,
  allowed: Object.fromEntries(Object.entries(ALLOWED).map(([c, set]) => [c, set.has(d.id)])),
}));
/** Short options by char code: every option letter of every line is looked up here. */
const BY_SHORT_CODE: (Def | undefined)[] = [];
for (const d of DEFS_READY) if (d.short) BY_SHORT_CODE[d.short.charCodeAt(0)] = d;
const BY_LONG = new Map<string, Def>();
for (const d of DEFS_READY) if (!BY_LONG.has(d.long)) BY_LONG.set(d.long, d);

export interface ParsedOption { id: string; value: string | undefined; column: number; spelled: string }
export interface ParsedLine {
  line: number;
  /** 'A' or 'a' in a snapshot; any command id (A E D a e d L l S Z C R set start-daemon stop-daemon h v) on a command line */
  command: string;
  commandColumn: number;
  /** the command's own value (--start-daemon master) */
  commandValue?: string;
  options: ParsedOption[];
  /** words that are no option (--set's three timeouts) */
  positionals: Word[];
}

/** 'snapshot': a line of a restore file (-A and -a only); 'command': a whole ipvsadm command line. */
export type LineMode = 'snapshot' | 'command';
const FIRST_WORD: Record<LineMode, string> = {
  snapshot: 'a line must start with a command (-A or -a)',
  command: 'the first option must be a command (-A -E -D -a -e -d -L -S -Z -C --set --start-daemon --stop-daemon)',
};

function display(def: OptionDef): string {
  return def.short ? `-${def.short}` : `--${def.long}`;
}

const isBlank = (c: number): boolean => c === 32 || c === 9 || c === 13;

/**
 * Splits on blanks (space, tab, CR) like config_stream; `#` starts a comment (a Director extension).
 * `start`/`end` pick one line out of a whole file (columns count from `start`): scanning the
 * file's own flat string is about twice as fast as scanning the pieces of a split.
 */
export function splitWords(text: string, start = 0, end = text.length): Word[] {
  const words: Word[] = [];
  for (let i = start; i < end;) {
    if (isBlank(text.charCodeAt(i))) { i++; continue; }
    const from = i;
    while (i < end && !isBlank(text.charCodeAt(i))) i++;
    if (text.charCodeAt(from) === 35) break;
    const word = text.slice(from, i);
    if (word === 'ipvsadm') continue;
    words.push({ text: word, column: from - start + 1 });
  }
  return words;
}

/** Control characters, invalid UTF-8 (decoded as U+FFFD) and other non-text bytes. */
export function findGarbage(text: string): { column: number; code: number } | null {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 9 || c === 13) continue;
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0) || c === 0xfffd || (c >= 0xd800 && c <= 0xdfff)) {
      return { column: i + 1, code: c };
    }
  }
  return null;
}

const lineError = (line: number, column: number, message: string): LineError => ({ line, column, message });

// findGarbage's characters except the newline: one regex pass tells whether any line needs findGarbage
const GARBAGE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ud800-\udfff]/;

/** Whether findGarbage finds something in any line of `text`. */
export function hasGarbage(text: string): boolean {
  return GARBAGE.test(text);
}

export function parseLineOptions(lineNo: number, words: Word[], mode: LineMode = 'snapshot'): ParsedLine | LineError {
  const opts: ParsedOption[] = [];
  const positionals: Word[] = [];
  let command: { id: string; column: number; def: OptionDef; value: string | undefined } | null = null;
  // option group -> how it was spelled; a line has a dozen options at most, so arrays beat a Map
  const seenGroups: string[] = [];
  const seenSpelled: string[] = [];
  // the options of one word: all of a bundle (-mw5) is read before any of it is checked
  const foundDefs: Def[] = [];
  const foundValues: (string | undefined)[] = [];
  const foundSpelled: string[] = [];
  let nFound = 0;

  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const text = w.text;
    nFound = 0;
    if (text.startsWith('--') && text.length > 2) {
      const eq = text.indexOf('=');
      const name = text.slice(2, eq === -1 ? undefined : eq);
      const def = BY_LONG.get(name);
      if (!def) return lineError(lineNo, w.column, `unknown option '--${name}'`);
      let value: string | undefined;
      if (eq !== -1) {
        if (def.arg === 'none') return lineError(lineNo, w.column, `option '--${name}' takes no value`);
        value = text.slice(eq + 1);
      } else if (def.arg === 'required') {
        const next = words[i + 1];
        if (!next) return lineError(lineNo, w.column, `option '--${name}' needs a value`);
        value = next.text;
        i++;
      } else if (def.arg === 'optional') {
        const next = words[i + 1];
        if (next && !next.text.startsWith('-')) { value = next.text; i++; }
      }
      foundDefs[nFound] = def;
      foundValues[nFound] = value;
      foundSpelled[nFound++] = def.longSpelled;
    } else if (text.startsWith('-') && text.length > 1 && text !== '--') {
      for (let j = 1; j < text.length; j++) {
        const def = BY_SHORT_CODE[text.charCodeAt(j)];
        const ch = text[j]!;
        if (!def) return lineError(lineNo, w.column, `unknown option '-${ch}'${text.length > 2 ? ` in '${text}'` : ''}`);
        foundDefs[nFound] = def;
        foundSpelled[nFound] = def.shortSpelled;
        if (def.arg === 'none') { foundValues[nFound++] = undefined; continue; }
        let value: string | undefined = j + 1 < text.length ? text.slice(j + 1) : undefined;
        if (value === undefined) {
          const next = words[i + 1];
          if (def.arg === 'required') {
            if (!next) return lineError(lineNo, w.column, `option '-${ch}' needs a value`);
            value = next.text;
            i++;
          } else if (next && !next.text.startsWith('-')) {
            value = next.text;
            i++;
          }
        }
        foundValues[nFound++] = value;
        break;
      }
    } else {
      if (!command) return lineError(lineNo, w.column, `${FIRST_WORD[mode]}, not '${text}'`);
      // --set takes its three timeouts as words of their own, as ipvsadm's popt leftovers
      if (command.id === 'set' && opts.length === 0 && positionals.length < 3) { positionals.push(w); continue; }
      return lineError(lineNo, w.column, `unexpected argument '${text}'`);
    }

    for (let k = 0; k < nFound; k++) {
      const def = foundDefs[k]!;
      const spelled = foundSpelled[k]!;
      if (def.command) {
        if (command) return lineError(lineNo, w.column, `a line holds one command; '${spelled}' follows '${display(command.def)}'`);
        if (opts.length > 0) return lineError(lineNo, w.column, `the command '${spelled}' must come first on the line`);
        if (mode === 'snapshot' && def.id !== 'A' && def.id !== 'a') {
          return lineError(lineNo, w.column, `'${spelled}' (--${def.long}) is not allowed in a snapshot: only -A (add service) and -a (add real server) lines describe a table`);
        }
        command = { id: def.id, column: w.column, def, value: foundValues[k] };
        continue;
      }
      if (!command) return lineError(lineNo, w.column, `${FIRST_WORD[mode]}, not '${spelled}'`);
      const cmd = command.id;
      if (!def.allowed[cmd]) {
        return lineError(lineNo, w.column, `option '${spelled}' (--${def.long}) is not allowed with ${COMMAND_NAMES[cmd] ?? cmd}`);
      }
      const group = def.group;
      // ipvsadm does not count -6, so it may repeat
      const at = def.id === '6' ? -1 : seenGroups.indexOf(group);
      if (at !== -1) {
        const prev = seenSpelled[at]!;
        return lineError(lineNo, w.column, prev === spelled
          ? `option '${spelled}' given twice`
          : `option '${spelled}' conflicts with '${prev}' (one ${group === 'forward' ? 'forwarding method' : group === 'service' ? 'service' : 'value'} per line)`);
      }
      seenGroups.push(group);
      seenSpelled.push(spelled);
      opts.push({ id: def.id, value: foundValues[k], column: w.column, spelled });
    }
  }
  if (!command) return lineError(lineNo, 1, 'empty command');
  return {
    line: lineNo, command: command.id, commandColumn: command.column, options: opts, positionals,
    ...(command.value !== undefined ? { commandValue: command.value } : {}),
  };
}
