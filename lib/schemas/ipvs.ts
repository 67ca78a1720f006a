/**
 * What a valid IPVS service and real server are, as zod schemas over the
 * bounds and rules of lib/ipvs/rules.ts. The agent validates API input with
 * these, the console its forms, and the snapshot parser every restored line.
 * Messages name the field and the allowed range.
 */
import { z } from 'zod';
import {
  DEFAULT_FLAGS, DEFAULT_TUNNEL, SCHEDULERS, type DestinationSpec, type ServiceFlags, type ServiceKey,
  type ServiceRules, type ServiceSpec,
} from '../ipvs/model';
import {
  FAMILIES, FORWARD_METHODS, FWMARK, GUE_PORT, MAX_NAME_LENGTH, MAX_NETMASK_TEXT, PE_NAME, PERSISTENCE_TIMEOUT, PORT, PROTOCOLS, SCHEDULER_NAMES,
  THRESHOLD, TUNNEL_CHECKSUMS, TUNNEL_TYPES, WEIGHT, anyPortWithoutPersistence, boundText, defaultNetmask,
  familyMixWithoutTunnel, netmaskProblem, onePacketNotAllowed, persistentWithoutTimeout, thresholdsInverted,
  tunnelOptionsWithoutTunnel, tunnelProblems, unusableRealServer,
} from '../ipvs/rules';
import { destinationId, serviceId } from '../ipvs/ids';
import { canonicalAddress, familyOf } from '../net/ip';

export const KNOWN_SCHEDULERS = SCHEDULERS;

export const familySchema = z.enum(FAMILIES);
export const protocolSchema = z.enum(PROTOCOLS);
export const portSchema = z
  .number({ error: 'port must be a number' })
  .int('port must be a whole number')
  .min(PORT.min, `port must be ${boundText(PORT)}`)
  .max(PORT.max, `port must be ${boundText(PORT)}`);

/** An address literal, returned in canonical text so keys compare by value. */
export const addressSchema = z
  .string()
  .trim()
  .min(1, 'address is required')
  .max(64, 'address is too long')
  .transform((s, ctx) => {
    const canon = canonicalAddress(s);
    if (canon === null) {
      ctx.addIssue({ code: 'custom', message: `'${s}' is not an IPv4 or IPv6 address` });
      return z.NEVER;
    }
    return canon;
  });

function checkFamily(v: { family: 'inet' | 'inet6'; address: string }, ctx: z.RefinementCtx): void {
  const fam = familyOf(v.address);
  if (fam !== null && fam !== v.family) {
    ctx.addIssue({
      code: 'custom',
      path: ['address'],
      message: `${v.address} is an ${fam === 'inet' ? 'IPv4' : 'IPv6'} address but the address family is ${v.family === 'inet' ? 'IPv4' : 'IPv6'}`,
    });
  }
}

export const fwmarkSchema = z
  .number({ error: 'fwmark must be a number' })
  .int('fwmark must be a whole number')
  .min(FWMARK.min, `fwmark must be ${boundText(FWMARK)} (0 means no fwmark)`)
  .max(FWMARK.max, `fwmark must be ${boundText(FWMARK)}`);

export const serviceKeySchema: z.ZodType<ServiceKey, unknown> = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('addr'),
      family: familySchema,
      protocol: protocolSchema,
      address: addressSchema,
      port: portSchema,
    })
    .superRefine(checkFamily),
  z.object({ kind: z.literal('fwmark'), family: familySchema, fwmark: fwmarkSchema }),
]);

export const schedulerSchema = z
  .string()
  .trim()
  .min(1, 'scheduler is required')
  .refine((s) => SCHEDULER_NAMES.includes(s), {
    error: (iss) => `unknown scheduler '${String(iss.input)}' (known: ${SCHEDULER_NAMES.join(', ')})`,
  });

export const peNameSchema = z
  .string()
  .trim()
  .min(1, 'persistence engine name is empty')
  .max(MAX_NAME_LENGTH, `persistence engine names are at most ${MAX_NAME_LENGTH} characters`)
  .regex(PE_NAME, 'persistence engine names are lower-case letters, digits and _ (e.g. sip)');

export const serviceFlagsSchema: z.ZodType<ServiceFlags, unknown> = z.object({
  persistent: z.boolean().default(false),
  onePacket: z.boolean().default(false),
  sched1: z.boolean().default(false),
  sched2: z.boolean().default(false),
  sched3: z.boolean().default(false),
});

export const timeoutSchema = z
  .number({ error: 'timeout must be a number' })
  .int('timeout must be whole seconds')
  .min(PERSISTENCE_TIMEOUT.min, `timeout must be 1..${PERSISTENCE_TIMEOUT.max} s`)
  .max(PERSISTENCE_TIMEOUT.max, `timeout must be 1..${PERSISTENCE_TIMEOUT.max} s (31 days)`);

/** Cross-field rules the kernel does not check itself (reference §6.1), as ipvsadm enforces them. */
function checkServiceSpec(s: ServiceSpec, ctx: z.RefinementCtx): void {
  if (persistentWithoutTimeout(s)) {
    ctx.addIssue({ code: 'custom', path: ['timeout'], message: `a persistent service needs a timeout of 1..${PERSISTENCE_TIMEOUT.max} s` });
  }
  if (anyPortWithoutPersistence(s)) {
    ctx.addIssue({ code: 'custom', path: ['key', 'port'], message: 'port 0 (any port) only works on a persistent service' });
  }
  if (onePacketNotAllowed(s)) {
    ctx.addIssue({ code: 'custom', path: ['flags', 'onePacket'], message: 'one-packet scheduling is only for UDP or fwmark services' });
  }
  const bad = netmaskProblem(s.key.family, s.netmask);
  if (bad) ctx.addIssue({ code: 'custom', path: ['netmask'], message: bad });
}

const serviceSpecFields = {
  key: serviceKeySchema,
  scheduler: schedulerSchema.default('wlc'),
  flags: serviceFlagsSchema.default({ ...DEFAULT_FLAGS }),
  timeout: timeoutSchema.default(0),
  /** '' (or absent) means the family's default. */
  netmask: z.string().trim().max(MAX_NETMASK_TEXT, 'netmask is too long').default(''),
  pe: peNameSchema.nullable().default(null),
};

const withDefaultNetmask = <T extends { key: ServiceKey; netmask: string }>(s: T): T => ({
  ...s,
  netmask: s.netmask === '' ? defaultNetmask(s.key.family) : s.netmask,
});

export const serviceSpecSchema: z.ZodType<ServiceSpec, unknown> = z
  .object(serviceSpecFields)
  .transform(withDefaultNetmask)
  .superRefine(checkServiceSpec);

export const forwardSchema = z.enum(FORWARD_METHODS);

const TUNNEL_ISSUES = {
  gue_needs_port: () => ['port', `a GUE tunnel needs a UDP port ${boundText(GUE_PORT)}`],
  port_without_gue: (type: string) => ['port', `a ${type} tunnel has no port`],
  gre_remote_checksum: () => ['checksum', 'remote checksum offload needs a GUE tunnel'],
  ipip_checksum: () => ['checksum', 'an ipip tunnel has no checksum option'],
} satisfies Record<string, (type: string) => [string, string]>;

export const tunnelSchema = z
  .object({
    type: z.enum(TUNNEL_TYPES).default('ipip'),
    port: portSchema.default(0),
    checksum: z.enum(TUNNEL_CHECKSUMS).default('nocsum'),
  })
  .superRefine((t, ctx) => {
    for (const p of tunnelProblems(t)) {
      const [path, message] = TUNNEL_ISSUES[p](t.type);
      ctx.addIssue({ code: 'custom', path: [path], message });
    }
  });

export const weightSchema = z
  .number({ error: 'weight must be a number' })
  .int('weight must be a whole number')
  .min(WEIGHT.min, `weight must be ${boundText(WEIGHT)}`)
  .max(WEIGHT.max, `weight must be ${boundText(WEIGHT)}`);

export const thresholdSchema = z
  .number({ error: 'threshold must be a number' })
  .int('threshold must be a whole number')
  .min(THRESHOLD.min, `threshold must be ${boundText(THRESHOLD)} (0 = none)`)
  .max(THRESHOLD.max, `threshold must be ${boundText(THRESHOLD)} (0 = none)`);

export const destinationKeySchema = z
  .object({ family: familySchema, address: addressSchema, port: portSchema })
  .superRefine(checkFamily);

const destinationFields = {
  family: familySchema,
  address: addressSchema,
  port: portSchema,
  forward: forwardSchema.default('dr'),
  weight: weightSchema.default(1),
  upperThreshold: thresholdSchema.default(0),
  lowerThreshold: thresholdSchema.default(0),
  tunnel: tunnelSchema.default({ ...DEFAULT_TUNNEL }),
};

function checkDestination(d: DestinationSpec, ctx: z.RefinementCtx): void {
  checkFamily(d, ctx);
  const unusable = unusableRealServer(d.family, d.address);
  if (unusable) ctx.addIssue({ code: 'custom', path: ['address'], message: unusable });
  if (tunnelOptionsWithoutTunnel(d)) {
    ctx.addIssue({ code: 'custom', path: ['tunnel'], message: `tunnel options need tunnel forwarding (forward is '${d.forward}')` });
  }
  if (thresholdsInverted(d)) {
    ctx.addIssue({
      code: 'custom',
      path: ['lowerThreshold'],
      message: d.upperThreshold === 0
        ? 'a lower threshold needs an upper threshold'
        : `lower threshold ${d.lowerThreshold} is above the upper threshold ${d.upperThreshold}`,
    });
  }
}

export const destinationSpecSchema: z.ZodType<DestinationSpec, unknown> = z
  .object(destinationFields)
  .superRefine(checkDestination);

/** A service with its real servers: adds the rules that need both. */
export const serviceRulesSchema: z.ZodType<ServiceRules, unknown> = z
  .object({ ...serviceSpecFields, destinations: z.array(destinationSpecSchema).default([]) })
  .transform(withDefaultNetmask)
  .superRefine((s, ctx) => {
    checkServiceSpec(s, ctx);
    const seen = new Set<string>();
    s.destinations.forEach((d, i) => {
      if (familyMixWithoutTunnel(s.key.family, d)) {
        ctx.addIssue({
          code: 'custom',
          path: ['destinations', i, 'forward'],
          message: 'a real server of the other address family needs tunnel forwarding',
        });
      }
      const id = destinationId(d);
      if (seen.has(id)) {
        ctx.addIssue({ code: 'custom', path: ['destinations', i], message: `duplicate real server ${d.address}:${d.port}` });
      }
      seen.add(id);
    });
  });

/** A whole table: services unique by key. */
export const serviceTableSchema = z.array(serviceRulesSchema).superRefine((services, ctx) => {
  const seen = new Set<string>();
  services.forEach((s, i) => {
    const id = serviceId(s.key);
    if (seen.has(id)) ctx.addIssue({ code: 'custom', path: [i, 'key'], message: 'duplicate service' });
    seen.add(id);
  });
});
