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

const BY_SHORT = new Map(DEFS.filter((d) => d.short).map((d) => [d.short!, d]));
const BY_LONG = new Map<string, OptionDef>();
for (const d of DEFS) if (!BY_LONG.has(d.long)) BY_LONG.set(d.long, d);

/** What each snapshot command may carry (ipvsadm's commands_v_options for -A and -a). */
const ALLOWED: Record<'A' | 'a', ReadonlySet<string>> = {
  A: new Set(['t', 'u', 'sctp', 'f', '6', 's', 'p', 'M', 'pe', 'b', 'o']),
  a: new Set(['t', 'u', 'sctp', 'f', '6', 'r', 'm', 'i', 'g', 'w', 'x', 'y',
    'tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum']),
};

/** Options that ipvsadm counts as one (set_option on the same bit). */
const GROUP: Record<string, string> = { t: 'service', u: 'service', sctp: 'service', f: 'service', m: 'forward', i: 'forward', g: 'forward' };

export interface ParsedOption { id: string; value: string | undefined; column: number; spelled: string }
export interface ParsedLine { line: number; command: 'A' | 'a'; commandColumn: number; options: ParsedOption[] }

function display(def: OptionDef): string {
  return def.short ? `-${def.short}` : `--${def.long}`;
}

/** Splits on blanks (space, tab, CR) like config_stream; `#` starts a comment (a Director extension). */
export function splitWords(text: string): Word[] {
  const words: Word[] = [];
  const re = /[^ \t\r]+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].startsWith('#')) break;
    if (m[0] === 'ipvsadm') continue;
    words.push({ text: m[0], column: m.index + 1 });
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

export function parseLineOptions(lineNo: number, words: Word[]): ParsedLine | LineError {
  const err = (column: number, message: string): LineError => ({ line: lineNo, column, message });
  const opts: ParsedOption[] = [];
  let command: { id: string; column: number; def: OptionDef } | null = null;
  const seen = new Map<string, string>();

  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const found: { def: OptionDef; value: string | undefined; spelled: string }[] = [];
    if (w.text.startsWith('--') && w.text.length > 2) {
      const eq = w.text.indexOf('=');
      const name = w.text.slice(2, eq === -1 ? undefined : eq);
      const def = BY_LONG.get(name);
      if (!def) return err(w.column, `unknown option '--${name}'`);
      let value: string | undefined;
      if (eq !== -1) {
        if (def.arg === 'none') return err(w.column, `option '--${name}' takes no value`);
        value = w.text.slice(eq + 1);
      } else if (def.arg === 'required') {
        const next = words[i + 1];
        if (!next) return err(w.column, `option '--${name}' needs a value`);
        value = next.text;
        i++;
      } else if (def.arg === 'optional') {
        const next = words[i + 1];
        if (next && !next.text.startsWith('-')) { value = next.text; i++; }
      }
      found.push({ def, value, spelled: `--${name}` });
    } else if (w.text.startsWith('-') && w.text.length > 1 && w.text !== '--') {
      for (let j = 1; j < w.text.length; j++) {
        const ch = w.text[j]!;
        const def = BY_SHORT.get(ch);
        if (!def) return err(w.column, `unknown option '-${ch}'${w.text.length > 2 ? ` in '${w.text}'` : ''}`);
        if (def.arg === 'none') { found.push({ def, value: undefined, spelled: `-${ch}` }); continue; }
        const rest = w.text.slice(j + 1);
        let value: string | undefined = rest === '' ? undefined : rest;
        if (value === undefined) {
          const next = words[i + 1];
          if (def.arg === 'required') {
            if (!next) return err(w.column, `option '-${ch}' needs a value`);
            value = next.text;
            i++;
          } else if (next && !next.text.startsWith('-')) {
            value = next.text;
            i++;
          }
        }
        found.push({ def, value, spelled: `-${ch}` });
        break;
      }
    } else {
      if (!command) return err(w.column, `a line must start with a command (-A or -a), not '${w.text}'`);
      return err(w.column, `unexpected argument '${w.text}'`);
    }

    for (const f of found) {
      if (f.def.command) {
        if (command) return err(w.column, `a line holds one command; '${f.spelled}' follows '${display(command.def)}'`);
        if (opts.length > 0) return err(w.column, `the command '${f.spelled}' must come first on the line`);
        if (f.def.id !== 'A' && f.def.id !== 'a') {
          return err(w.column, `'${f.spelled}' (--${f.def.long}) is not allowed in a snapshot: only -A (add service) and -a (add real server) lines describe a table`);
        }
        command = { id: f.def.id, column: w.column, def: f.def };
        continue;
      }
      if (!command) return err(w.column, `a line must start with a command (-A or -a), not '${f.spelled}'`);
      const cmd = command.id as 'A' | 'a';
      if (!ALLOWED[cmd].has(f.def.id)) {
        return err(w.column, `option '${f.spelled}' (--${f.def.long}) is not allowed with ${cmd === 'A' ? '-A (add service)' : '-a (add real server)'}`);
      }
      const group = GROUP[f.def.id] ?? f.def.id;
      // ipvsadm does not count -6, so it may repeat
      const prev = f.def.id === '6' ? undefined : seen.get(group);
      if (prev !== undefined) {
        return err(w.column, prev === f.spelled
          ? `option '${f.spelled}' given twice`
          : `option '${f.spelled}' conflicts with '${prev}' (one ${group === 'forward' ? 'forwarding method' : group === 'service' ? 'service' : 'value'} per line)`);
      }
      seen.set(group, f.spelled);
      opts.push({ id: f.def.id, value: f.value, column: w.column, spelled: f.spelled });
    }
  }
  if (!command) return err(1, 'empty command');
  return { line: lineNo, command: command.id as 'A' | 'a', commandColumn: command.column, options: opts };
}
