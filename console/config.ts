/**
 * Console configuration: which agents (directors) exist, the tokens to reach
 * them, and who may sign in. Everything here stays on the console server; the
 * browser only ever learns director ids and names.
 *
 *   DIRECTOR_AGENTS        JSON: [{ id, name, url, viewerToken, operatorToken? }]
 *   DIRECTOR_AGENTS_FILE   path of a file holding that JSON (used when DIRECTOR_AGENTS is unset)
 *   DIRECTOR_CONSOLE_USERS JSON: [{ username, password, role }] (password plain or "scrypt$<salt>$<hash>")
 *   DIRECTOR_CONSOLE_USERS_FILE  path of a file holding that JSON
 *   DIRECTOR_CONSOLE_SECRET      session signing key (≥ 32 chars); random per start when unset
 *   DIRECTOR_CONSOLE_ORIGINS     comma-separated browser origins allowed (default: same host as the request)
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FINGERPRINT_RE } from '../lib/enroll/code';

export type Role = 'viewer' | 'operator';
type Env = Record<string, string | undefined>;

const agentSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'id is 1-64 letters, digits, _ or -, used in URLs'),
  name: z.string().trim().min(1).max(80),
  url: z
    .string()
    .url()
    .refine((u) => /^https?:$/.test(new URL(u).protocol), 'url must be http:// or https://')
    .transform((u) => u.replace(/\/+$/, '')),
  viewerToken: z.string().min(16, 'viewerToken must be at least 16 characters'),
  operatorToken: z.string().min(16, 'operatorToken must be at least 16 characters').optional(),
  /** SHA-256 of the agent's certificate (AA:BB:…): an https agent is then trusted by this pin alone (console/pinned.ts) */
  fingerprint: z
    .string()
    .transform((f) => f.trim().toUpperCase())
    .refine((f) => FINGERPRINT_RE.test(f), 'fingerprint is the SHA-256 of the agent certificate, AA:BB:… (32 pairs)')
    .optional(),
  /** Paths of the agent's tRPC endpoints (server/agent/server.ts: HTTP_BASE, WS_PATH). */
  trpcPath: z.string().startsWith('/').default('/trpc'),
  wsPath: z.string().startsWith('/').default('/trpc-ws'),
});
export type AgentConfig = z.infer<typeof agentSchema>;

const agentsSchema = z.array(agentSchema).min(1, 'configure at least one director').superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((a, i) => {
    if (seen.has(a.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate director id '${a.id}'` });
    seen.add(a.id);
  });
});

const userSchema = z.object({
  username: z.string().trim().min(1).max(64),
  password: z.string().min(8, 'passwords are at least 8 characters'),
  role: z.enum(['viewer', 'operator']),
});
export type UserConfig = z.infer<typeof userSchema>;
const usersSchema = z.array(userSchema).min(1).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((u, i) => {
    if (seen.has(u.username)) ctx.addIssue({ code: 'custom', path: [i, 'username'], message: `duplicate user '${u.username}'` });
    seen.add(u.username);
  });
});

export interface ConsoleConfig {
  agents: AgentConfig[];
  users: UserConfig[];
  /** Users invented at start because none were configured; their passwords are printed once. */
  generatedUsers: UserConfig[];
  secret: string;
  secretGenerated: boolean;
  allowedOrigins: string[];
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
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

function jsonFrom(env: Env, name: string, readFile: (p: string) => string): { source: string; value: unknown } | null {
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

export function loadConfig(
  env: Env = process.env,
  readFile: (p: string) => string = (p) => readFileSync(p, 'utf8'),
  random: (n: number) => Buffer = randomBytes,
): ConsoleConfig {
  const agentsRaw = jsonFrom(env, 'DIRECTOR_AGENTS', readFile);
  if (!agentsRaw) throw new ConfigError('set DIRECTOR_AGENTS (JSON) or DIRECTOR_AGENTS_FILE: [{ "id", "name", "url", "viewerToken", "operatorToken" }]');
  const agents = agentsSchema.safeParse(agentsRaw.value);
  if (!agents.success) throw new ConfigError(issuesText(agentsRaw.source, agents.error));

  const usersRaw = jsonFrom(env, 'DIRECTOR_CONSOLE_USERS', readFile);
  let users: UserConfig[];
  let generatedUsers: UserConfig[] = [];
  if (usersRaw) {
    const parsed = usersSchema.safeParse(usersRaw.value);
    if (!parsed.success) throw new ConfigError(issuesText(usersRaw.source, parsed.error));
    users = parsed.data;
  } else {
    generatedUsers = [
      { username: 'operator', password: random(12).toString('base64url'), role: 'operator' },
      { username: 'viewer', password: random(12).toString('base64url'), role: 'viewer' },
    ];
    users = generatedUsers;
  }

  const secretEnv = env.DIRECTOR_CONSOLE_SECRET;
  if (secretEnv !== undefined && secretEnv.length < 32) {
    throw new ConfigError('DIRECTOR_CONSOLE_SECRET must be at least 32 characters');
  }
  const allowedOrigins = (env.DIRECTOR_CONSOLE_ORIGINS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((o) => {
      try {
        return new URL(o).origin;
      } catch {
        throw new ConfigError(`DIRECTOR_CONSOLE_ORIGINS: '${o}' is not an origin like https://director.example:3000`);
      }
    });

  return {
    agents: agents.data,
    users,
    generatedUsers,
    secret: secretEnv ?? random(32).toString('base64url'),
    secretGenerated: secretEnv === undefined,
    allowedOrigins,
  };
}

/** The token the console uses on a director for a user of this role (viewers never get the operator token). */
export function tokenFor(agent: AgentConfig, role: Role): { token: string; role: Role } {
  if (role === 'operator' && agent.operatorToken) return { token: agent.operatorToken, role: 'operator' };
  return { token: agent.viewerToken, role: 'viewer' };
}
