/**
 * The one source of truth for what a valid IPVS service and real server are:
 * bounds and cross-field rules from the kernel and ipvsadm (reference §4.5,
 * §6.1, §8.1). The agent validates API input with these, the console its
 * forms, and the snapshot parser every restored line, so a rule changes in
 * one place. Messages name the field and the allowed range.
 */
import { z } from 'zod';
import {
  DEFAULT_FLAGS, DEFAULT_TUNNEL, SCHEDULERS, type DestinationSpec, type ServiceFlags, type ServiceKey,
  type ServiceRules, type ServiceSpec,
} from '../ipvs/model';
import { destinationId, serviceId } from '../ipvs/ids';
import { canonicalAddress, familyOf, parseIPv4, parseIPv6 } from '../net/ip';

export const U32_MAX = 4294967295;
export const I32_MAX = 2147483647;
/** ipvsadm's and keepalived's upper bound for a persistence timeout (31 days). */
export const MAX_PERSISTENCE_TIMEOUT = 2678400;
/** IP_VS_SCHEDNAME_MAXLEN / IP_VS_PENAME_MAXLEN minus the NUL. */
export const MAX_NAME_LENGTH = 15;

/** Scheduler names Director accepts: the kernel's modules plus 'none' (no scheduler, newer kernels). */
export const SCHEDULER_NAMES: readonly string[] = [...SCHEDULERS, 'none'];
export const KNOWN_SCHEDULERS = SCHEDULERS;

export const familySchema = z.enum(['inet', 'inet6']);
export const protocolSchema = z.enum(['tcp', 'udp', 'sctp']);
export const portSchema = z
  .number({ error: 'port must be a number' })
  .int('port must be a whole number')
  .min(0, 'port must be 0..65535')
  .max(65535, 'port must be 0..65535');

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
  .min(1, 'fwmark must be 1..4294967295 (0 means no fwmark)')
  .max(U32_MAX, 'fwmark must be 1..4294967295');

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
  .regex(/^[a-z0-9_]+$/, 'persistence engine names are lower-case letters, digits and _ (e.g. sip)');

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
  .min(0, `timeout must be 1..${MAX_PERSISTENCE_TIMEOUT} s`)
  .max(MAX_PERSISTENCE_TIMEOUT, `timeout must be 1..${MAX_PERSISTENCE_TIMEOUT} s (31 days)`);

/** The mask ipvsadm uses when none is given, so a round trip through the kernel is stable. */
export function defaultNetmask(family: 'inet' | 'inet6'): string {
  return family === 'inet' ? '255.255.255.255' : '128';
}

/** True for masks like 255.255.255.0; ipvsadm and the kernel also take others (`-M 24` is 0.0.0.24). */
export function isContiguousV4Mask(text: string): boolean {
  const b = parseIPv4(text);
  if (!b) return false;
  const n = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const inv = (U32_MAX - n) >>> 0;
  return ((inv & (inv + 1)) >>> 0) === 0;
}

/**
 * Persistence granularity: IPv4 a contiguous dotted mask, IPv6 a prefix
 * length 1..128. ipvsadm and the kernel would take any IPv4 value (`-M 24`
 * is 0.0.0.24, almost always a mistake); Director's netlink client refuses
 * non-contiguous masks, so they are refused here, before anything is sent.
 */
export function netmaskProblem(family: 'inet' | 'inet6', netmask: string): string | null {
  if (family === 'inet6') {
    return /^\d{1,3}$/.test(netmask) && Number(netmask) >= 1 && Number(netmask) <= 128
      ? null
      : `an IPv6 persistence netmask is a prefix length 1..128, not '${netmask}'`;
  }
  if (!parseIPv4(netmask)) return `an IPv4 persistence netmask is a dotted quad like 255.255.255.0, not '${netmask}'`;
  return isContiguousV4Mask(netmask) ? null : `persistence netmask ${netmask} is not contiguous (a prefix mask like 255.255.255.0 is expected)`;
}

/** Addresses the kernel refuses for a real server (EINVAL): unspecified, broadcast, multicast. */
export function unusableRealServer(family: 'inet' | 'inet6', address: string): string | null {
  if (family === 'inet') {
    const b = parseIPv4(address);
    if (!b) return null;
    if (b.every((x) => x === 0)) return 'the unspecified address 0.0.0.0 cannot be a real server';
    if (b.every((x) => x === 255)) return 'the broadcast address cannot be a real server';
    if (b[0]! >= 224 && b[0]! <= 239) return `multicast address ${address} cannot be a real server`;
    return null;
  }
  const b = parseIPv6(address);
  if (!b) return null;
  if (b.every((x) => x === 0)) return 'the unspecified address :: cannot be a real server';
  if (b[0] === 0xff) return `multicast address ${address} cannot be a real server`;
  return null;
}

/** Cross-field rules the kernel does not check itself (reference §6.1), as ipvsadm enforces them. */
function checkServiceSpec(s: ServiceSpec, ctx: z.RefinementCtx): void {
  if (s.flags.persistent && s.timeout === 0) {
    ctx.addIssue({ code: 'custom', path: ['timeout'], message: `a persistent service needs a timeout of 1..${MAX_PERSISTENCE_TIMEOUT} s` });
  }
  if (s.key.kind === 'addr' && s.key.port === 0 && !s.flags.persistent) {
    ctx.addIssue({ code: 'custom', path: ['key', 'port'], message: 'port 0 (any port) only works on a persistent service' });
  }
  if (s.flags.onePacket && !(s.key.kind === 'fwmark' || s.key.protocol === 'udp')) {
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
  netmask: z.string().trim().max(39, 'netmask is too long').default(''),
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

export const forwardSchema = z.enum(['nat', 'dr', 'tun', 'local', 'bypass']);

export const tunnelSchema = z
  .object({
    type: z.enum(['ipip', 'gue', 'gre']).default('ipip'),
    port: portSchema.default(0),
    checksum: z.enum(['nocsum', 'csum', 'remcsum']).default('nocsum'),
  })
  .superRefine((t, ctx) => {
    if (t.type === 'gue' && t.port === 0) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: 'a GUE tunnel needs a UDP port 1..65535' });
    }
    if (t.type !== 'gue' && t.port !== 0) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: `a ${t.type} tunnel has no port` });
    }
    if (t.type === 'gre' && t.checksum === 'remcsum') {
      ctx.addIssue({ code: 'custom', path: ['checksum'], message: 'remote checksum offload needs a GUE tunnel' });
    }
    if (t.type === 'ipip' && t.checksum !== 'nocsum') {
      ctx.addIssue({ code: 'custom', path: ['checksum'], message: 'an ipip tunnel has no checksum option' });
    }
  });

export const weightSchema = z
  .number({ error: 'weight must be a number' })
  .int('weight must be a whole number')
  .min(0, 'weight must be 0..2147483647')
  .max(I32_MAX, 'weight must be 0..2147483647');

export const thresholdSchema = z
  .number({ error: 'threshold must be a number' })
  .int('threshold must be a whole number')
  .min(0, 'threshold must be 0..2147483647 (0 = none)')
  .max(I32_MAX, 'threshold must be 0..2147483647 (0 = none)');

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
  if (d.forward !== 'tun' && (d.tunnel.type !== 'ipip' || d.tunnel.port !== 0 || d.tunnel.checksum !== 'nocsum')) {
    ctx.addIssue({ code: 'custom', path: ['tunnel'], message: `tunnel options need tunnel forwarding (forward is '${d.forward}')` });
  }
  // the kernel answers ERANGE when l_threshold > u_threshold, including l > 0 with u = 0
  if (d.lowerThreshold > d.upperThreshold) {
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
      if (d.family !== s.key.family && d.forward !== 'tun') {
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
