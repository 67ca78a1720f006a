/**
 * The agent's configuration file (/etc/director/agent.toml): one key per flag of
 * `director agent`, so a systemd unit needs no command line. Pure schema: reading
 * the file and naming the line of a bad key is server/cli/agent-config.ts.
 *
 * To add a key: add it here (camelCase) with its checks; its flag is the kebab-case
 * form (stateDir → --state-dir) unless FLAG_OF says otherwise. Paths must be absolute:
 * a service's working folder is not the operator's.
 */
import { z } from 'zod';
import { SAMPLER_KNOBS } from '../agent/sampler-knobs';

const absPath = z.string().min(1).max(4096).refine((p) => p.startsWith('/'), 'must be an absolute path (starting with /)');
const listenRe = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/;

function isOrigin(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === text.replace(/\/+$/, '');
  } catch {
    return false;
  }
}

export const agentConfigSchema = z.strictObject({
  listen: z.string().max(300).refine((s) => {
    const m = listenRe.exec(s);
    return m !== null && Number(m[3]) <= 65535;
  }, 'expected "ADDR:PORT", e.g. "127.0.0.1:9580" or "[::1]:9580"').optional(),
  socket: absPath.optional(),
  stateDir: absPath.optional(),
  allowOrigins: z.array(z.string().max(300).refine(isOrigin, 'each entry is an http(s) origin like "https://console.example:3000"')).max(64).optional(),
  tickMs: z.int().min(SAMPLER_KNOBS.tickMs.flag.min).max(SAMPLER_KNOBS.tickMs.flag.max).optional(),
  destBudget: z.int().min(SAMPLER_KNOBS.destBudget.flag.min).max(SAMPLER_KNOBS.destBudget.flag.max).optional(),
  /** Hash skew: the window its shares are judged over, and how long skew must hold, in seconds. */
  skewWindow: z.int().min(5).max(86_400).optional(),
  skewHold: z.int().min(5).max(86_400).optional(),
  tlsCert: absPath.optional(),
  tlsKey: absPath.optional(),
  insecureListen: z.boolean().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  directorId: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, '1-32 lower-case letters, digits, _ or -, starting with a letter or digit').optional(),
  haConfig: absPath.optional(),
  /** Health checks: folder of root-owned misc-check scripts, the user they run as, and whether checks may run local commands. */
  checksDir: absPath.optional(),
  checkUser: z.string().regex(/^(?:[a-z_][a-z0-9_-]{0,31}|\d{1,10}(?::\d{1,10})?)$/, 'a user name (lower-case letters, digits, _ or -) or uid:gid').optional(),
  allowLocalChecks: z.boolean().optional(),
  /** The check runner's socket (director-checks.service): misc checks run there, as its own user, not as the agent's. */
  checkRunner: absPath.optional(),
}).superRefine((c, ctx) => {
  if (c.listen !== undefined && c.socket !== undefined) ctx.addIssue({ code: 'custom', path: ['socket'], message: 'give listen or socket, not both' });
  if ((c.tlsCert === undefined) !== (c.tlsKey === undefined)) {
    ctx.addIssue({ code: 'custom', path: [c.tlsCert === undefined ? 'tlsKey' : 'tlsCert'], message: 'tlsCert and tlsKey go together' });
  }
});
export type AgentConfigFile = z.infer<typeof agentConfigSchema>;

/** Flags whose name is not the kebab-case form of their key. */
const FLAG_OF: Partial<Record<keyof AgentConfigFile, string>> = { allowOrigins: 'allow-origin' };

/** The `director agent` flag a key stands for, without the dashes. */
export function flagOf(key: string): string {
  return FLAG_OF[key as keyof AgentConfigFile] ?? key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The config as parseArgs-shaped values (strings, booleans, string lists), keyed by flag. */
export function configAsFlags(cfg: AgentConfigFile): Record<string, string | boolean | string[]> {
  const out: Record<string, string | boolean | string[]> = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (v === undefined) continue;
    out[flagOf(k)] = typeof v === 'number' ? String(v) : (v as string | boolean | string[]);
  }
  return out;
}
