/**
 * Health-check configuration, per virtual service: the checks the agent
 * runs against each real server, their timing, and what happens on failure.
 * The same schema validates API input, the agent's state file, the `health`
 * section of JSON snapshots and keepalived.conf imports. Defaults follow
 * keepalived (reference §9.3/§9.4) so an imported file behaves as it did.
 */
import { RE2JS } from 're2js';
import { z } from 'zod';
import type { DestinationSpec } from '../ipvs/model';
import { parseIPv4, parseIPv6 } from '../net/ip';
import { destinationSpecSchema, serviceKeySchema } from './ipvs';

/** Longest period anything waits for: a day (keepalived accepts more; nobody means it). */
const MAX_SECONDS = 86_400;

const seconds = (what: string, min = 0) => z
  .number({ error: `${what} must be a number of seconds` })
  .min(min, `${what} must be at least ${min} s`)
  .max(MAX_SECONDS, `${what} must be at most ${MAX_SECONDS} s`);

export const timingSchema = z.object({
  /** seconds between checks of an up server (keepalived delay_loop, default 60) */
  delayLoop: seconds('delay loop', 0.1).optional(),
  /** seconds a connection (and its answer) may take (connect_timeout, default 5) */
  connectTimeout: seconds('connect timeout', 0.1).optional(),
  /** failed attempts retried before the server is declared down (retry: 1, 0 for MISC_CHECK) */
  retry: z.number().int('retry must be a whole number').min(0, 'retry must be 0..100').max(100, 'retry must be 0..100').optional(),
  /** pause before a retry (delay_before_retry: 3 s for HTTP, 1 s otherwise) */
  delayBeforeRetry: seconds('delay before retry').optional(),
  /** first run at a random moment within this many seconds (warmup, default = delay loop; 0 = at once) */
  warmup: seconds('warmup').optional(),
});
export type Timing = z.infer<typeof timingSchema>;
export type ResolvedTiming = Required<Timing>;

/** "200", "200-299": what HTTP_GET's status_code accepts. */
export const statusRangeSchema = z.string().trim().regex(/^\d{3}(-\d{3})?$/, 'status code must be like 200 or 200-299')
  .refine((s) => {
    const [a, b] = s.split('-').map(Number);
    return a! >= 100 && a! <= 599 && (b === undefined || (b >= a! && b <= 599));
  }, 'status codes are 100..599 and a range runs low-high');

/**
 * Body regexes run with RE2 (linear time: a real server's answer cannot make
 * a check backtrack for seconds), so they are validated with RE2's syntax.
 */
export function compileBodyRegex(s: string): RE2JS {
  return RE2JS.compile(s);
}

const regexSchema = z.string().max(1000, 'regex is too long').superRefine((s, ctx) => {
  try {
    compileBodyRegex(s);
  } catch (e) {
    const why = (e as Error).message.replace(/^error parsing regexp: /, '');
    ctx.addIssue({
      code: 'custom',
      message: `regex: ${why} (the linear-time engine has no backreferences, lookahead or lookbehind; repeats go up to {1000})`,
    });
  }
});

const hostnameSchema = z.string().trim().min(1).max(253, 'virtual host is too long')
  .regex(/^[A-Za-z0-9.:\-[\]_]+$/, 'virtual host must be a host name (letters, digits, dots, dashes)');

export const httpUrlSchema = z.object({
  path: z.string().min(1).max(2048, 'path is too long').regex(/^\/\S*$/, 'path must start with / and contain no spaces').default('/'),
  /** accepted status codes and ranges; all listed are accepted */
  statusCodes: z.array(statusRangeSchema).min(1, 'at least one status code').max(32).default(['200']),
  /** MD5 of the body, lower-case hex (keepalived's genhash) */
  digest: z.string().regex(/^[0-9a-fA-F]{32}$/, 'digest is an MD5 in 32 hex digits').transform((s) => s.toLowerCase()).optional(),
  /** the body must match this */
  regex: regexSchema.optional(),
  virtualhost: hostnameSchema.optional(),
});
export type HttpUrl = z.infer<typeof httpUrlSchema>;

/** A misc check's script: a bare file name in the agent's checks folder (no path, no arguments). */
export const SCRIPT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const DEFAULT_CHECKS_DIR = '/etc/director/checks.d';
export const MISC_COMMAND_REFUSED = 'command strings are not accepted: a misc check names a script in the agent\'s checks folder (field script)';

export const scriptNameSchema = z.string({ error: 'script is required: the name of a file in the agent\'s checks folder' })
  .regex(SCRIPT_NAME_RE, 'script must be a file name in the checks folder: 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit, no path and no arguments');

const portOverride = z.number().int().min(1, 'connect port must be 1..65535').max(65535, 'connect port must be 1..65535');

export const checkSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('http'),
    /** SSL_GET: HTTPS, certificate not verified (as keepalived) */
    tls: z.boolean().default(false),
    urls: z.array(httpUrlSchema).min(1, 'an HTTP check needs at least one url').max(16),
    /** default Host header for the urls (the real server's address otherwise) */
    virtualhost: hostnameSchema.optional(),
    connectPort: portOverride.optional(),
    timing: timingSchema.default({}),
  }),
  z.object({
    type: z.literal('tcp'),
    connectPort: portOverride.optional(),
    timing: timingSchema.default({}),
  }),
  z.object({
    type: z.literal('misc'),
    /** refused: command strings would make an operator token a shell on the director (issue 23) */
    command: z.never({ error: MISC_COMMAND_REFUSED }).optional(),
    /** a script in the agent's checks folder (--checks-dir), run with the real server's address and port */
    script: scriptNameSchema,
    /** seconds the script may run (misc_timeout; default: the delay loop, as keepalived) */
    timeoutSec: seconds('misc timeout', 0.1).optional(),
    /** misc_dynamic: exit 2..255 also means up, with weight exit-2 */
    dynamic: z.boolean().default(false),
    timing: timingSchema.default({}),
  }),
]);
export type Check = z.infer<typeof checkSchema>;
export type CheckInput = z.input<typeof checkSchema>;

export const realServerHealthSchema = z.object({
  /** The real server as configured: what recovery restores (weight) or re-adds (when removed on failure). */
  destination: destinationSpecSchema,
  /** all must pass for the server to be up; none = not checked */
  checks: z.array(checkSchema).max(8, 'at most 8 checks per real server').default([]),
  /** per-server override of the service's failure action */
  onFailure: z.enum(['quiesce', 'remove']).optional(),
  /** set by an operator: weight 0 whatever the checks say, until cleared */
  maintenance: z.boolean().default(false),
});
export type RealServerHealth = z.infer<typeof realServerHealthSchema>;

export const healthServiceSchema = z.object({
  service: serviceKeySchema,
  timing: timingSchema.default({}),
  /** quiesce = weight 0, connections continue (keepalived inhibit_on_failure); remove = delete the real server */
  onFailure: z.enum(['quiesce', 'remove']).default('quiesce'),
  /** raise a recovered server's weight to its configured value over this many seconds (0 = at once) */
  rampUpSec: seconds('ramp-up').default(0),
  /** added when every real server is down, removed when one recovers */
  sorryServer: destinationSpecSchema.nullable().default(null),
  /**
   * Quorum: a failing server is taken out only while at least this many
   * others pass their checks; below it the last servers stay in service
   * (a check that fails everywhere is more often wrong than every server).
   * 0 or absent = off, keepalived's behaviour.
   */
  minInService: z.number().int('minimum in service must be a whole number').min(0, 'minimum in service must be 0..1024').max(1024, 'minimum in service must be 0..1024').optional(),
  /** servers kept in by the quorum go out only once this many more than the minimum pass again */
  hysteresis: z.number().int('hysteresis must be a whole number').min(0, 'hysteresis must be 0..1024').max(1024, 'hysteresis must be 0..1024').optional(),
  realServers: z.array(realServerHealthSchema).max(1024).default([]),
}).superRefine((h, ctx) => {
  const seen = new Set<string>();
  h.realServers.forEach((r, i) => {
    const id = destKey(r.destination);
    if (seen.has(id)) ctx.addIssue({ code: 'custom', path: ['realServers', i, 'destination'], message: `duplicate real server ${r.destination.address}:${r.destination.port}` });
    seen.add(id);
    r.checks.forEach((c, j) => {
      if (c.type !== 'misc' && r.destination.port === 0 && c.connectPort === undefined) {
        ctx.addIssue({
          code: 'custom', path: ['realServers', i, 'checks', j, 'connectPort'],
          message: `real server ${r.destination.address} has port 0: a ${c.type.toUpperCase()} check needs a connect port`,
        });
      }
    });
  });
  if (h.sorryServer && seen.has(destKey(h.sorryServer))) {
    ctx.addIssue({ code: 'custom', path: ['sorryServer'], message: 'the sorry server cannot also be a checked real server' });
  }
});
export type HealthServiceConfig = z.infer<typeof healthServiceSchema>;
export type HealthServiceInput = z.input<typeof healthServiceSchema>;

export const healthTableSchema = z.array(healthServiceSchema).max(10_000);

export function destKey(d: { family: string; address: string; port: number }): string {
  return `${d.family}/${d.address}/${d.port}`;
}

/** keepalived's defaults, per checker type (reference §9.4). */
export function resolveTiming(service: Timing, check: Check): ResolvedTiming {
  const t = { ...service, ...stripUndefined(check.timing) };
  const delayLoop = t.delayLoop ?? 60;
  return {
    delayLoop,
    connectTimeout: t.connectTimeout ?? 5,
    retry: t.retry ?? (check.type === 'misc' ? 0 : 1),
    delayBeforeRetry: t.delayBeforeRetry ?? (check.type === 'http' ? 3 : 1),
    warmup: t.warmup ?? delayLoop,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Where a check connects: always the real server's own address; only the port may differ. */
export function checkTarget(d: DestinationSpec, c: Check): { family: DestinationSpec['family']; address: string; port: number } {
  return { family: d.family, address: d.address, port: c.type === 'misc' ? d.port : (c.connectPort ?? d.port) };
}

/**
 * Why a check may not target this address, or null: loopback, link-local and
 * unspecified addresses reach the director's own services (health checks as
 * a scanner or an oracle), so they are checked only when the agent allows it.
 */
export function localTargetReason(address: string): string | null {
  let v4 = parseIPv4(address);
  const v6 = v4 ? null : parseIPv6(address);
  if (v6) {
    const zeros = (from: number, to: number) => v6.subarray(from, to).every((x) => x === 0);
    if (zeros(0, 16)) return 'an unspecified address';
    if (zeros(0, 15) && v6[15] === 1) return 'a loopback address';
    if (v6[0] === 0xfe && (v6[1]! & 0xc0) === 0x80) return 'a link-local address';
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) forms reach the IPv4 address
    if (zeros(0, 10) && ((v6[10] === 0xff && v6[11] === 0xff) || zeros(10, 12))) v4 = v6.subarray(12);
    else return null;
  }
  if (!v4) return null;
  if (v4[0] === 127) return 'a loopback address';
  if (v4[0] === 169 && v4[1] === 254) return 'a link-local address';
  if (v4[0] === 0) return 'an unspecified address';
  return null;
}

/** Parses "200", "200-299" lists into a predicate. */
export function statusMatcher(codes: readonly string[]): (status: number) => boolean {
  const ranges = codes.map((c) => {
    const [a, b] = c.split('-').map(Number);
    return [a!, b ?? a!] as const;
  });
  return (s) => ranges.some(([a, b]) => s >= a && s <= b);
}

export type HealthState = 'unknown' | 'up' | 'down';
