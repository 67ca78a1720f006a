/**
 * Console configuration: /etc/director/console.toml (or --config / DIRECTOR_CONSOLE_CONFIG),
 * checked with zod before anything starts. Every error names the file, the key, its line
 * when the key is in the file, and why. Everything here stays on the console server; the
 * browser only ever learns director ids and names.
 *
 *   listen = "127.0.0.1:3000"            # ADDR:PORT ([::1]:3000 for IPv6)
 *   stateDir = "/var/lib/director-console"
 *   usersFile = "/var/lib/director-console/users.json"   # default <stateDir>/users.json
 *   allowedOrigins = ["https://console.example:3000"]    # default: same host as the request
 *   secureCookies = false                # on by itself with [tls]; set behind a TLS proxy
 *   demo = false                         # the /demo pages (synthetic data)
 *   allowRoot = false
 *   [tls]                                # the console's own listener speaks HTTPS
 *   cert = "/etc/director/console.crt"
 *   key = "/etc/director/console.key"
 *   hstsMaxAge = 31536000
 *   [[agents]]
 *   id = "lvs1"  name = "lvs1"  url = "https://10.0.0.11:9580"
 *   viewerTokenFile = "/etc/director/agents/lvs1.viewer"  (or viewerToken = "…")
 *   operatorTokenFile = "/etc/director/agents/lvs1.operator"
 *   fingerprint = "AA:BB:…"              # pin the agent's certificate (SHA-256)
 *
 * The environment variables of the lab and of older setups override the file:
 *   HOST, PORT, DIRECTOR_AGENTS (JSON) / DIRECTOR_AGENTS_FILE, DIRECTOR_CONSOLE_USERS (JSON, lab and
 *   tests only) / DIRECTOR_CONSOLE_USERS_FILE (the users store), DIRECTOR_CONSOLE_ORIGINS,
 *   DIRECTOR_CONSOLE_SECURE_COOKIES=1, DIRECTOR_CONSOLE_DEMO=1, DIRECTOR_CONSOLE_ALLOW_ROOT=1,
 *   DIRECTOR_CONSOLE_STATE_DIR, DIRECTOR_CONSOLE_TLS_CERT / _KEY.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { z } from 'zod';
import { FINGERPRINT_RE } from '../lib/enroll/code';

export type Role = 'viewer' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];
/** viewer < operator < admin */
export const roleRank = (r: Role): number => ROLES.indexOf(r);
type Env = Record<string, string | undefined>;

export const DEFAULT_CONSOLE_CONFIG = '/etc/director/console.toml';
export const DEFAULT_STATE_DIR = '/var/lib/director-console';
/** A config file is a few kilobytes; anything near this is not one. */
const MAX_BYTES = 1024 * 1024;

const absPath = z.string().min(1).max(4096).refine((p) => p.startsWith('/'), 'must be an absolute path (starting with /)');
const listenRe = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/;
const listenSchema = z.string().max(300).refine((s) => {
  const m = listenRe.exec(s);
  return m !== null && Number(m[3]) <= 65535;
}, 'expected "ADDR:PORT", e.g. "127.0.0.1:3000" or "[::1]:3000"');
const originSchema = z.string().max(300).transform((o, ctx) => {
  try {
    const u = new URL(o);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.origin;
  } catch { /* below */ }
  ctx.addIssue({ code: 'custom', message: `'${o}' is not an origin like https://director.example:3000` });
  return z.NEVER;
});
const tokenSchema = (name: string) => z.string().min(16, `${name} must be at least 16 characters`).max(4096);

/** One agent as the console uses it. */
const agentSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'id is 1-64 letters, digits, _ or -, used in URLs'),
  name: z.string().trim().min(1).max(80),
  url: z
    .string()
    .max(2000)
    .url()
    .refine((u) => /^https?:$/.test(new URL(u).protocol), 'url must be http:// or https://')
    .transform((u) => u.replace(/\/+$/, '')),
  viewerToken: tokenSchema('viewerToken'),
  operatorToken: tokenSchema('operatorToken').optional(),
  /** SHA-256 of the agent's certificate (AA:BB:…): an https agent is then trusted by this pin alone (console/pinned.ts) */
  fingerprint: z
    .string()
    .transform((f) => f.trim().toUpperCase())
    .refine((f) => FINGERPRINT_RE.test(f), 'fingerprint is the SHA-256 of the agent certificate, AA:BB:… (32 pairs)')
    .optional(),
  /** Paths of the agent's tRPC endpoints (server/api/server.ts: HTTP_BASE, WS_PATH). */
  trpcPath: z.string().startsWith('/').default('/trpc'),
  wsPath: z.string().startsWith('/').default('/trpc-ws'),
});
export type AgentConfig = z.infer<typeof agentSchema>;

/** An agent in console.toml: tokens inline or (better) in files only the console's user reads. */
const agentFileSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  viewerToken: z.string().optional(),
  viewerTokenFile: absPath.optional(),
  operatorToken: z.string().optional(),
  operatorTokenFile: absPath.optional(),
  fingerprint: z.string().optional(),
  trpcPath: z.string().optional(),
  wsPath: z.string().optional(),
}).superRefine((a, ctx) => {
  if ((a.viewerToken === undefined) === (a.viewerTokenFile === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['viewerTokenFile'], message: 'give exactly one of viewerToken and viewerTokenFile' });
  }
  if (a.operatorToken !== undefined && a.operatorTokenFile !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['operatorTokenFile'], message: 'give operatorToken or operatorTokenFile, not both' });
  }
});

const tlsSchema = z.strictObject({
  cert: absPath,
  key: absPath,
  /** Strict-Transport-Security max-age in seconds (0 turns the header off). */
  hstsMaxAge: z.int().min(0).max(63_072_000).default(31_536_000),
});

export const consoleFileSchema = z.strictObject({
  listen: listenSchema.optional(),
  stateDir: absPath.optional(),
  usersFile: absPath.optional(),
  allowedOrigins: z.array(originSchema).max(64).optional(),
  secureCookies: z.boolean().optional(),
  demo: z.boolean().optional(),
  allowRoot: z.boolean().optional(),
  tls: tlsSchema.optional(),
  agents: z.array(agentFileSchema).max(256).optional(),
});
export type ConsoleFile = z.infer<typeof consoleFileSchema>;

/** A user given in DIRECTOR_CONSOLE_USERS (lab and tests): the password is hashed at start and then forgotten. */
const envUserSchema = z.object({
  username: z.string().trim().min(1).max(64),
  password: z.string().min(8, 'passwords are at least 8 characters').max(1024),
  role: z.enum(['viewer', 'operator', 'admin']),
});
export type EnvUser = z.infer<typeof envUserSchema>;
const envUsersSchema = z.array(envUserSchema).min(1).max(1000).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((u, i) => {
    if (seen.has(u.username)) ctx.addIssue({ code: 'custom', path: [i, 'username'], message: `duplicate user '${u.username}'` });
    seen.add(u.username);
  });
});

export interface ConsoleConfig {
  /** The file read, or null when the environment alone configured the console (lab, tests). */
  file: string | null;
  listen: { host: string; port: number };
  agents: AgentConfig[];
  stateDir: string;
  /** The users store (console/users.ts). */
  usersFile: string;
  /** Users fixed by DIRECTOR_CONSOLE_USERS (then the store is not used); plain passwords, hashed at start. */
  envUsers: EnvUser[] | null;
  allowedOrigins: string[];
  secureCookies: boolean;
  /** undefined: on in development only */
  demo: boolean | undefined;
  allowRoot: boolean;
  tls: { cert: string; key: string; hstsMaxAge: number } | null;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const bareKey = String.raw`(?:[A-Za-z0-9_-]+|"[^"\\]*"|'[^']*')`;
const keyAt = new RegExp(String.raw`^\s*(${bareKey}(?:\s*\.\s*${bareKey})*)\s*=`);
const splitKey = (k: string) => (k.match(new RegExp(bareKey, 'g')) ?? []).map((p) => p.replace(/^["']|["']$/g, ''));

/**
 * The 1-based line that sets the key at `path` (zod's issue path: strings, and indices into
 * arrays of tables), or the line of its nearest enclosing table; undefined when not in the text.
 * A line scan is enough for a config file: a key's first line is where it is set.
 */
export function lineOfKey(text: string, keyPath: readonly PropertyKey[]): number | undefined {
  const want = keyPath.map((p) => (typeof p === 'number' ? p : String(p)));
  const lines = text.split('\n');
  const seen = new Map<string, number>();
  let table: Array<string | number> = [];
  let best: { line: number; depth: number } | undefined;
  const consider = (full: Array<string | number>, line: number) => {
    if (full.length === 0 || full.length > want.length || !full.every((k, j) => k === want[j])) return;
    if (!best || full.length > best.depth) best = { line, depth: full.length };
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const arr = /^\s*\[\[\s*([^\]]+?)\s*\]\]\s*(?:#.*)?$/.exec(line);
    const tbl = arr ? null : /^\s*\[\s*([^\]]+?)\s*\]\s*(?:#.*)?$/.exec(line);
    if (arr) {
      const name = splitKey(arr[1]!);
      const n = (seen.get(name.join('.')) ?? -1) + 1;
      seen.set(name.join('.'), n);
      table = [...name, n];
      consider(table, i + 1);
      continue;
    }
    if (tbl) {
      table = splitKey(tbl[1]!);
      consider(table, i + 1);
      continue;
    }
    const m = keyAt.exec(line);
    if (m) consider([...table, ...splitKey(m[1]!)], i + 1);
  }
  return best?.line;
}

function describeIssue(file: string, text: string, issue: z.core.$ZodIssue): string[] {
  const at = (p: readonly PropertyKey[]) => {
    const line = lineOfKey(text, p);
    return `${file}${line ? `:${line}` : ''}: ${p.map(String).join('.') || '(top level)'}`;
  };
  if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${at([...issue.path, k])}: unknown key`);
  return [`${at(issue.path)}: ${issue.message}`];
}

/** Parses and checks console.toml's text; `file` is only used in messages. */
export function parseConsoleFile(file: string, text: string): ConsoleFile {
  let data: unknown;
  try {
    data = parse(text);
  } catch (e) {
    if (e instanceof TomlError) throw new ConfigError(`${file}:${e.line}:${e.column}: not valid TOML: ${e.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '')}`);
    throw e;
  }
  const r = consoleFileSchema.safeParse(data);
  if (!r.success) throw new ConfigError(r.error.issues.flatMap((i) => describeIssue(file, text, i)).join('\n'));
  return r.data;
}

function issuesText(source: string, err: z.ZodError): string {
  return err.issues.map((i) => `${source}${i.path.length ? `[${i.path.join('.')}]` : ''}: ${i.message}`).join('; ');
}

function readJson(source: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${source} is not valid JSON: ${(e as Error).message}`);
  }
}

function jsonFromEnv(env: Env, name: string, readFile: (p: string) => string): { source: string; value: unknown } | null {
  const inline = env[name];
  if (inline !== undefined && inline.trim() !== '') return { source: name, value: readJson(name, inline) };
  const file = env[`${name}_FILE`];
  if (file) {
    let text: string;
    try {
      text = readFile(file);
    } catch (e) {
      throw new ConfigError(`${name}_FILE: cannot read ${file}: ${(e as Error).message}`);
    }
    return { source: file, value: readJson(file, text) };
  }
  return null;
}

function parseListen(text: string): { host: string; port: number } {
  const m = listenRe.exec(text)!;
  return { host: (m[1] ?? m[2])!, port: Number(m[3]) };
}

export interface LoadOptions {
  env?: Env;
  /** --config; else DIRECTOR_CONSOLE_CONFIG; else the default path when it exists. */
  configPath?: string;
  readFile?: (p: string) => string;
  exists?: (p: string) => boolean;
}

const defaultExists = (p: string) => {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
};

export function loadConfig(opts: LoadOptions = {}): ConsoleConfig {
  const env = opts.env ?? process.env;
  const readFile = opts.readFile ?? ((p: string) => {
    const b = readFileSync(p);
    if (b.length > MAX_BYTES) throw new Error(`${b.length} bytes; a configuration file is at most ${MAX_BYTES}`);
    return b.toString('utf8');
  });
  const exists = opts.exists ?? defaultExists;

  // The file: named explicitly (must exist), or the default one when present.
  const named = opts.configPath ?? (env.DIRECTOR_CONSOLE_CONFIG || undefined);
  const filePath = named ?? (exists(DEFAULT_CONSOLE_CONFIG) ? DEFAULT_CONSOLE_CONFIG : null);
  let fileCfg: ConsoleFile = {};
  let fileText = '';
  if (filePath) {
    try {
      fileText = readFile(filePath);
    } catch (e) {
      throw new ConfigError(`${filePath}: cannot read the console configuration: ${(e as Error).message}`);
    }
    fileCfg = parseConsoleFile(filePath, fileText);
  }
  const fileAt = (p: PropertyKey[]) => {
    const line = lineOfKey(fileText, p);
    return `${filePath}${line ? `:${line}` : ''}: ${p.join('.')}`;
  };

  // Agents: DIRECTOR_AGENTS (lab) replaces the file's list.
  let agents: AgentConfig[];
  const agentsEnv = jsonFromEnv(env, 'DIRECTOR_AGENTS', readFile);
  if (agentsEnv) {
    const r = z.array(agentSchema).max(256).safeParse(agentsEnv.value);
    if (!r.success) throw new ConfigError(issuesText(agentsEnv.source, r.error));
    agents = r.data;
  } else {
    agents = (fileCfg.agents ?? []).map((a, i) => {
      const token = (key: 'viewerToken' | 'operatorToken'): string | undefined => {
        const fileKey = `${key}File` as const;
        const p = a[fileKey];
        if (p === undefined) return a[key];
        try {
          return readFile(p).trim();
        } catch (e) {
          throw new ConfigError(`${fileAt(['agents', i, fileKey])}: cannot read ${p}: ${(e as Error).message}`);
        }
      };
      const r = agentSchema.safeParse({
        id: a.id, name: a.name, url: a.url, viewerToken: token('viewerToken'), operatorToken: token('operatorToken'),
        fingerprint: a.fingerprint, trpcPath: a.trpcPath, wsPath: a.wsPath,
      });
      if (!r.success) throw new ConfigError(r.error.issues.map((iss) => `${fileAt(['agents', i, ...tokenKey(a, iss.path)])}: ${iss.message}`).join('\n'));
      return r.data;
    });
  }
  const seen = new Set<string>();
  for (const a of agents) {
    if (seen.has(a.id)) throw new ConfigError(`${agentsEnv ? agentsEnv.source : `${filePath}: agents`}: duplicate director id '${a.id}'`);
    seen.add(a.id);
  }
  if (!agentsEnv && !filePath) {
    throw new ConfigError(`no configuration: write ${DEFAULT_CONSOLE_CONFIG} (or give --config FILE), with an [[agents]] table per director; the lab sets DIRECTOR_AGENTS instead`);
  }

  let envUsers: EnvUser[] | null = null;
  const usersInline = env.DIRECTOR_CONSOLE_USERS;
  if (usersInline !== undefined && usersInline.trim() !== '') {
    const r = envUsersSchema.safeParse(readJson('DIRECTOR_CONSOLE_USERS', usersInline));
    if (!r.success) throw new ConfigError(issuesText('DIRECTOR_CONSOLE_USERS', r.error));
    envUsers = r.data;
  }

  const origins = env.DIRECTOR_CONSOLE_ORIGINS !== undefined
    ? env.DIRECTOR_CONSOLE_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean).map((o) => {
      const r = originSchema.safeParse(o);
      if (!r.success) throw new ConfigError(`DIRECTOR_CONSOLE_ORIGINS: ${r.error.issues[0]!.message}`);
      return r.data;
    })
    : fileCfg.allowedOrigins ?? [];

  const envListen = env.HOST !== undefined || env.PORT !== undefined;
  const listen = fileCfg.listen ? parseListen(fileCfg.listen) : { host: '127.0.0.1', port: 3000 };
  if (envListen) {
    if (env.HOST) listen.host = env.HOST;
    if (env.PORT !== undefined) {
      const port = Number(env.PORT);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT: '${env.PORT}' is not a port number`);
      listen.port = port;
    }
  }

  let tls = fileCfg.tls ? { cert: fileCfg.tls.cert, key: fileCfg.tls.key, hstsMaxAge: fileCfg.tls.hstsMaxAge } : null;
  if (env.DIRECTOR_CONSOLE_TLS_CERT || env.DIRECTOR_CONSOLE_TLS_KEY) {
    if (!env.DIRECTOR_CONSOLE_TLS_CERT || !env.DIRECTOR_CONSOLE_TLS_KEY) throw new ConfigError('DIRECTOR_CONSOLE_TLS_CERT and DIRECTOR_CONSOLE_TLS_KEY go together');
    tls = { cert: env.DIRECTOR_CONSOLE_TLS_CERT, key: env.DIRECTOR_CONSOLE_TLS_KEY, hstsMaxAge: tls?.hstsMaxAge ?? 31_536_000 };
  }
  if (tls) {
    for (const k of ['cert', 'key'] as const) {
      try {
        readFile(tls[k]);
      } catch (e) {
        throw new ConfigError(`${filePath && fileCfg.tls ? fileAt(['tls', k]) : `DIRECTOR_CONSOLE_TLS_${k.toUpperCase()}`}: cannot read ${tls[k]}: ${(e as Error).message}`);
      }
    }
  }

  const flag = (name: string, fromFile: boolean | undefined): boolean | undefined =>
    env[name] !== undefined && env[name] !== '' ? env[name] === '1' : fromFile;
  const stateDir = env.DIRECTOR_CONSOLE_STATE_DIR || fileCfg.stateDir || DEFAULT_STATE_DIR;
  if (!path.isAbsolute(stateDir)) throw new ConfigError(`DIRECTOR_CONSOLE_STATE_DIR: '${stateDir}' must be an absolute path`);
  const usersFile = env.DIRECTOR_CONSOLE_USERS_FILE || fileCfg.usersFile || path.join(stateDir, 'users.json');

  return {
    file: filePath,
    listen,
    agents,
    stateDir,
    usersFile,
    envUsers,
    allowedOrigins: origins,
    // Browsers drop Secure cookies over plain HTTP: on with TLS, or when a TLS proxy fronts us.
    secureCookies: tls !== null || (flag('DIRECTOR_CONSOLE_SECURE_COOKIES', fileCfg.secureCookies) ?? false),
    demo: flag('DIRECTOR_CONSOLE_DEMO', fileCfg.demo),
    allowRoot: flag('DIRECTOR_CONSOLE_ALLOW_ROOT', fileCfg.allowRoot) ?? false,
    tls,
  };
}

/** A token's issue is about the key the operator wrote: viewerToken or viewerTokenFile. */
function tokenKey(a: z.infer<typeof agentFileSchema>, p: readonly PropertyKey[]): PropertyKey[] {
  const k = p[0];
  if ((k === 'viewerToken' || k === 'operatorToken') && a[`${k}File`] !== undefined) return [`${k}File`];
  return [...p];
}

/** The token the console uses on a director for a user of this role (viewers never get the operator token). */
export function tokenFor(agent: AgentConfig, role: Role): { token: string; role: 'viewer' | 'operator' } {
  if (roleRank(role) >= roleRank('operator') && agent.operatorToken) return { token: agent.operatorToken, role: 'operator' };
  return { token: agent.viewerToken, role: 'viewer' };
}
