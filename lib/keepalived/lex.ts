/**
 * keepalived.conf lexer and block reader (reference §9.1): `#` and `!`
 * comments outside quotes, `{` and `}` as tokens anywhere in a line (and as
 * line breaks), double-quoted strings with backslash escapes, and `include`
 * resolved through an injected reader so this module stays pure.
 */

export interface Pos {
  file: string;
  line: number;
}

export interface Diagnostic extends Pos {
  message: string;
}

type Tok = { kind: 'word'; text: string; pos: Pos } | { kind: 'open' | 'close' | 'eol'; pos: Pos };

export interface Stmt {
  name: string;
  args: string[];
  pos: Pos;
  /** null: a plain statement; otherwise the block's statements */
  block: Stmt[] | null;
}

/**
 * Reads an included file (glob patterns expand to several), relative to the
 * file that includes it; `main` is the configuration's own file, whose folder
 * a reader confines includes to.
 */
export type IncludeReader = (pattern: string, from: string, main: string) => { file: string; text: string }[];

/** Bounds on what one configuration may make the parser do (a file is hostile input). */
export const LIMITS = {
  /** blocks inside blocks; keepalived's own grammar needs 4 */
  depth: 64,
  includeDepth: 8,
  /** included files in all */
  includeFiles: 100,
  /** the configuration and everything it includes, in UTF-16 code units (about bytes for ASCII) */
  totalBytes: 4 * 1024 * 1024,
};

interface IncludeState {
  files: number;
  bytes: number;
  /** include chain from the main file to the current one, to refuse cycles */
  chain: string[];
  /** set once a bound is hit, so later includes are not read at all */
  stopped: boolean;
}

function lexText(text: string, file: string, out: Tok[], errors: Diagnostic[]): void {
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const pos = { file, line: i + 1 };
    let j = 0;
    while (j < raw.length) {
      const c = raw[j]!;
      if (c === ' ' || c === '\t') { j++; continue; }
      if (c === '#' || c === '!') break;
      if (c === '{' || c === '}') {
        out.push({ kind: c === '{' ? 'open' : 'close', pos });
        out.push({ kind: 'eol', pos });
        j++;
        continue;
      }
      if (c === '"') {
        let s = '';
        let k = j + 1;
        let closed = false;
        while (k < raw.length) {
          const d = raw[k]!;
          if (d === '\\' && k + 1 < raw.length) { s += raw[k + 1]; k += 2; continue; }
          if (d === '"') { closed = true; k++; break; }
          s += d;
          k++;
        }
        if (!closed) errors.push({ ...pos, message: 'unterminated quoted string' });
        out.push({ kind: 'word', text: s, pos });
        j = k;
        continue;
      }
      let k = j;
      while (k < raw.length && !' \t{}#!"'.includes(raw[k]!)) k++;
      out.push({ kind: 'word', text: raw.slice(j, k), pos });
      j = k;
    }
    out.push({ kind: 'eol', pos });
  });
}

/** Tokens of a file with includes spliced in where they stand. */
function lexWithIncludes(
  text: string, file: string, reader: IncludeReader | undefined, errors: Diagnostic[], st: IncludeState, main: string, out: Tok[],
): void {
  const own: Tok[] = [];
  lexText(text, file, own, errors);
  let lineStart = true;
  for (let i = 0; i < own.length; i++) {
    const t = own[i]!;
    if (lineStart && t.kind === 'word' && t.text === 'include') {
      const arg = own[i + 1];
      const depth = st.chain.length - 1;
      if (!arg || arg.kind !== 'word') {
        errors.push({ ...t.pos, message: 'include needs a file name' });
      } else if (!reader) {
        errors.push({ ...t.pos, message: `include ${arg.text}: includes cannot be read here (give the whole configuration in one file)` });
      } else if (st.stopped) {
        errors.push({ ...t.pos, message: `include ${arg.text}: not read (an include limit was already reached)` });
      } else if (depth >= LIMITS.includeDepth) {
        errors.push({ ...t.pos, message: `include ${arg.text}: includes nested more than ${LIMITS.includeDepth} deep` });
        st.stopped = true;
      } else {
        let found: { file: string; text: string }[] = [];
        try {
          found = reader(arg.text, file, main);
        } catch (e) {
          errors.push({ ...t.pos, message: `include ${arg.text}: ${(e as Error).message}` });
        }
        for (const f of found) {
          if (st.chain.includes(f.file)) {
            errors.push({ ...t.pos, message: `include ${arg.text}: ${f.file} includes itself (${[...st.chain.slice(st.chain.indexOf(f.file)), f.file].join(' -> ')})` });
            st.stopped = true;
            break;
          }
          st.files++;
          st.bytes += f.text.length;
          if (st.files > LIMITS.includeFiles) {
            errors.push({ ...t.pos, message: `include ${arg.text}: more than ${LIMITS.includeFiles} included files in all` });
            st.stopped = true;
            break;
          }
          if (st.bytes > LIMITS.totalBytes) {
            errors.push({ ...t.pos, message: `include ${arg.text}: the configuration with its includes is over ${LIMITS.totalBytes / 1024 / 1024} MiB` });
            st.stopped = true;
            break;
          }
          st.chain.push(f.file);
          lexWithIncludes(f.text, f.file, reader, errors, st, main, out);
          st.chain.pop();
        }
      }
      while (i < own.length && own[i]!.kind !== 'eol') i++;
      out.push({ kind: 'eol', pos: t.pos });
      lineStart = true;
      continue;
    }
    out.push(t);
    lineStart = t.kind === 'eol';
  }
}

export function readStatements(text: string, file: string, reader: IncludeReader | undefined, errors: Diagnostic[]): Stmt[] {
  if (text.length > LIMITS.totalBytes) {
    errors.push({ file, line: 1, message: `the configuration is over ${LIMITS.totalBytes / 1024 / 1024} MiB` });
    return [];
  }
  const toks: Tok[] = [];
  lexWithIncludes(text, file, reader, errors, { files: 0, bytes: text.length, chain: [file], stopped: false }, file, toks);
  let i = 0;

  /** Skips the rest of a block nested too deep, without recursing: returns after its closing brace. */
  function skipBlock(): void {
    let open = 1;
    while (i < toks.length && open > 0) {
      const k = toks[i++]!.kind;
      if (k === 'open') open++;
      else if (k === 'close') open--;
    }
  }

  function skipEol(): void {
    while (i < toks.length && toks[i]!.kind === 'eol') i++;
  }

  function parseList(opener: Pos | null, depth: number): Stmt[] {
    const out: Stmt[] = [];
    for (;;) {
      skipEol();
      const t = toks[i];
      if (!t) {
        if (opener) errors.push({ ...opener, message: 'block opened here is never closed (missing })' });
        return out;
      }
      if (t.kind === 'close') {
        i++;
        if (!opener) errors.push({ ...t.pos, message: 'unexpected } with no open block' });
        else return out;
        continue;
      }
      if (t.kind === 'open') {
        errors.push({ ...t.pos, message: 'a block { needs a keyword before it' });
        i++;
        skipBlock();
        continue;
      }
      const words: string[] = [];
      const pos = t.pos;
      while (i < toks.length && toks[i]!.kind === 'word') words.push((toks[i++] as { text: string }).text);
      // the { may end this line or stand alone on the next one
      let j = i;
      while (j < toks.length && toks[j]!.kind === 'eol') j++;
      if (toks[j]?.kind === 'open') {
        i = j + 1;
        if (depth >= LIMITS.depth) {
          errors.push({ ...pos, message: `${words[0]}: blocks nested more than ${LIMITS.depth} deep` });
          skipBlock();
          out.push({ name: words[0]!, args: words.slice(1), pos, block: [] });
        } else {
          out.push({ name: words[0]!, args: words.slice(1), pos, block: parseList(pos, depth + 1) });
        }
      } else {
        out.push({ name: words[0]!, args: words.slice(1), pos, block: null });
      }
    }
  }
  return parseList(null, 0);
}
