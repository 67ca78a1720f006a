/**
 * Reads the agent's TOML configuration file and checks it against
 * lib/schemas/agent-config.ts before anything starts: every error names the
 * file, the key, its line when the key is in the file, and why.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { agentConfigSchema, type AgentConfigFile } from '../../lib/schemas/agent-config';

export const DEFAULT_AGENT_CONFIG = '/etc/director/agent.toml';
/** A config file is a few hundred bytes; anything near this is not one. */
const MAX_BYTES = 1024 * 1024;

export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
}

const bareKey = String.raw`(?:[A-Za-z0-9_-]+|"[^"\\]*"|'[^']*')`;
const dotted = new RegExp(String.raw`^\s*(${bareKey}(?:\s*\.\s*${bareKey})*)\s*`);
const unquote = (k: string) => k.trim().replace(/^["']|["']$/g, '');
const splitKey = (k: string) => (k.match(new RegExp(bareKey, 'g')) ?? []).map(unquote);

/**
 * The 1-based line where the key at `path` is set, or undefined. A line-oriented
 * scan (table headers, then `a.b = ` keys) is enough for a config file; multi-line
 * strings and arrays only matter by their first line, which holds the key.
 */
export function lineOfKey(text: string, path: readonly PropertyKey[]): number | undefined {
  const want = path.filter((p): p is string => typeof p === 'string');
  if (want.length === 0) return undefined;
  let table: string[] = [];
  // a table header is the key's line when the key is the table itself, else the nearest place to look
  let fallback: { line: number; depth: number } | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const header = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/.exec(line);
    if (header) {
      table = splitKey(header[1]!);
      if (table.length <= want.length && table.every((k, j) => k === want[j]) && table.length > (fallback?.depth ?? 0)) {
        fallback = { line: i + 1, depth: table.length };
      }
      continue;
    }
    const m = dotted.exec(line);
    if (!m || line.slice(m[0].length)[0] !== '=') continue;
    const full = [...table, ...splitKey(m[1]!)];
    if (full.length <= want.length && full.every((k, j) => k === want[j])) return i + 1;
  }
  return fallback?.line;
}

function describe(file: string, text: string, issue: z.core.$ZodIssue): string[] {
  const at = (path: readonly PropertyKey[]) => {
    const line = lineOfKey(text, path);
    return `${file}${line ? `:${line}` : ''}: ${path.map(String).join('.') || '(top level)'}`;
  };
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${at([...issue.path, k])}: unknown key (known keys: ${Object.keys(agentConfigSchema.shape).join(', ')})`);
  }
  return [`${at(issue.path)}: ${issue.message}`];
}

/** Parses and checks a config file's text; `file` is only used in messages. */
export function parseAgentConfig(file: string, text: string): AgentConfigFile {
  let data: unknown;
  try {
    data = parse(text);
  } catch (e) {
    if (e instanceof TomlError) throw new AgentConfigError(`${file}:${e.line}:${e.column}: not valid TOML: ${e.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '')}`);
    throw e;
  }
  const r = agentConfigSchema.safeParse(data);
  if (!r.success) throw new AgentConfigError(r.error.issues.flatMap((i) => describe(file, text, i)).join('\n'));
  return r.data;
}

/** Reads and checks a config file; a missing or unreadable file is an error that says so. */
export function loadAgentConfig(file: string): AgentConfigFile {
  let text: string;
  try {
    const buf = readFileSync(file);
    if (buf.length > MAX_BYTES) throw new AgentConfigError(`${file}: ${buf.length} bytes; a config file is at most ${MAX_BYTES}`);
    text = buf.toString('utf8');
  } catch (e) {
    if (e instanceof AgentConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied (the agent runs as user director; the file must be readable by it)' : code === 'EISDIR' ? 'is a folder, not a file' : (e as Error).message;
    throw new AgentConfigError(`${file}: cannot read the configuration: ${why}`);
  }
  return parseAgentConfig(file, text);
}

/**
 * The file the agent reads: `--config FILE` when given (it must exist), else the
 * default file when it exists, else none (flags and built-in defaults only).
 */
export function agentConfigPath(flag: string | undefined, exists: (p: string) => boolean = existsSync): string | null {
  if (flag !== undefined) return flag;
  return exists(DEFAULT_AGENT_CONFIG) ? DEFAULT_AGENT_CONFIG : null;
}
