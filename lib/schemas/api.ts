/**
 * Input schemas of the agent's tRPC procedures, shared with the console's forms.
 *
 * The IPVS object schemas (service key/spec, destination spec) belong in
 * lib/schemas/ipvs.ts (another module's job); until it lands they are defined
 * here under the same names so swapping to re-exports changes no caller.
 */
import { z } from 'zod';
import {
  DEFAULT_FLAGS, DEFAULT_TUNNEL, SCHEDULERS, type DestinationSpec, type ServiceFlags, type ServiceKey,
  type ServiceSpec,
} from '../ipvs/model';
import { canonicalAddress, cidrContains, familyOf } from '../net/ip';

const U32_MAX = 4294967295;
const I32_MAX = 2147483647;
/** ipvsadm's and keepalived's upper bound for a persistence timeout (31 days). */
export const MAX_PERSISTENCE_TIMEOUT = 2678400;

export const familySchema = z.enum(['inet', 'inet6']);
export const protocolSchema = z.enum(['tcp', 'udp', 'sctp']);
export const portSchema = z.number().int().min(0).max(65535);

/** An address literal, returned in canonical text so keys compare by value. */
export const addressSchema = z
  .string()
  .trim()
  .min(1, 'address is required')
  .max(64)
  .transform((s, ctx) => {
    const canon = canonicalAddress(s);
    if (canon === null) {
      ctx.addIssue({ code: 'custom', message: `'${s}' is not an IPv4 or IPv6 address` });
      return z.NEVER;
    }
    return canon;
  });

function checkFamily(
  v: { family: 'inet' | 'inet6'; address: string },
  ctx: z.RefinementCtx,
): void {
  const fam = familyOf(v.address);
  if (fam !== null && fam !== v.family) {
    ctx.addIssue({
      code: 'custom',
      path: ['address'],
      message: `${v.address} is an ${fam === 'inet' ? 'IPv4' : 'IPv6'} address but family is ${v.family}`,
    });
  }
}

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
  z.object({
    kind: z.literal('fwmark'),
    family: familySchema,
    fwmark: z.number().int().min(1, 'fwmark must be 1 or more').max(U32_MAX),
  }),
]);

export const schedulerSchema = z
  .string()
  .trim()
  .min(1, 'scheduler is required')
  .max(15, 'scheduler names are at most 15 characters')
  .regex(/^[a-z0-9_]+$/, 'scheduler names are lower-case letters, digits and _');

/** Suggestions for forms; the kernel decides (it may have more, e.g. twos, or fewer). */
export const KNOWN_SCHEDULERS = SCHEDULERS;

export const serviceFlagsSchema: z.ZodType<ServiceFlags, unknown> = z
  .object({
    persistent: z.boolean().default(false),
    onePacket: z.boolean().default(false),
    sched1: z.boolean().default(false),
    sched2: z.boolean().default(false),
    sched3: z.boolean().default(false),
  });

const serviceSpecFields = {
  key: serviceKeySchema,
  scheduler: schedulerSchema.default('wlc'),
  flags: serviceFlagsSchema.default({ ...DEFAULT_FLAGS }),
  timeout: z.number().int().min(0).max(MAX_PERSISTENCE_TIMEOUT).default(0),
  netmask: z.string().trim().max(39).default(''),
  pe: z.string().trim().min(1).max(15).nullable().default(null),
};

/** Cross-field rules the kernel does not check itself (reference §6.1). */
function checkServiceSpec(s: ServiceSpec, ctx: z.RefinementCtx): void {
  if (s.flags.persistent && s.timeout === 0) {
    ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'a persistent service needs a timeout of 1 s or more' });
  }
  if (s.key.kind === 'addr' && s.key.port === 0 && !s.flags.persistent) {
    ctx.addIssue({ code: 'custom', path: ['key', 'port'], message: 'port 0 (any port) only works on a persistent service' });
  }
  if (s.flags.onePacket && !(s.key.kind === 'fwmark' || s.key.protocol === 'udp')) {
    ctx.addIssue({ code: 'custom', path: ['flags', 'onePacket'], message: 'one-packet scheduling only applies to UDP' });
  }
  if (s.netmask !== '') {
    if (s.key.family === 'inet6') {
      const n = Number(s.netmask);
      if (!/^\d+$/.test(s.netmask) || n < 1 || n > 128) {
        ctx.addIssue({ code: 'custom', path: ['netmask'], message: 'an IPv6 persistence netmask is a prefix length 1..128' });
      }
    } else if (!isContiguousV4Mask(s.netmask)) {
      ctx.addIssue({ code: 'custom', path: ['netmask'], message: `'${s.netmask}' is not a contiguous IPv4 netmask` });
    }
  }
}

function isContiguousV4Mask(text: string): boolean {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return false;
  const n = parts.reduce((acc, p) => acc * 256 + Number(p), 0);
  const inv = U32_MAX - n;
  // contiguous iff the inverted mask is 2^k - 1
  return (inv & (inv + 1)) === 0 || inv === U32_MAX;
}

/** The mask ipvsadm uses when none is given, so a round trip through the kernel is stable. */
export function defaultNetmask(family: 'inet' | 'inet6'): string {
  return family === 'inet' ? '255.255.255.255' : '128';
}

export const serviceSpecSchema: z.ZodType<ServiceSpec, unknown> = z
  .object(serviceSpecFields)
  .transform((s) => ({ ...s, netmask: s.netmask === '' ? defaultNetmask(s.key.family) : s.netmask }))
  .superRefine(checkServiceSpec);

/** Every attribute of a service except its identity, all optional: what `services.update` changes. */
export const servicePatchSchema = z
  .object({
    scheduler: schedulerSchema.optional(),
    flags: z
      .object({
        persistent: z.boolean().optional(),
        onePacket: z.boolean().optional(),
        sched1: z.boolean().optional(),
        sched2: z.boolean().optional(),
        sched3: z.boolean().optional(),
      })
      .optional(),
    timeout: serviceSpecFields.timeout.removeDefault().optional(),
    netmask: z.string().trim().max(39).optional(),
    pe: z.string().trim().min(1).max(15).nullable().optional(),
  })
  .strict();
export type ServicePatch = z.infer<typeof servicePatchSchema>;

export const forwardSchema = z.enum(['nat', 'dr', 'tun', 'local', 'bypass']);

export const tunnelSchema = z
  .object({
    type: z.enum(['ipip', 'gue', 'gre']).default('ipip'),
    port: portSchema.default(0),
    checksum: z.enum(['nocsum', 'csum', 'remcsum']).default('nocsum'),
  })
  .superRefine((t, ctx) => {
    if (t.type === 'gue' && t.port === 0) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: 'a GUE tunnel needs a UDP port' });
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

export const destinationKeySchema = z
  .object({ family: familySchema, address: addressSchema, port: portSchema })
  .superRefine(checkFamily);

const destinationFields = {
  family: familySchema,
  address: addressSchema,
  port: portSchema,
  forward: forwardSchema.default('dr'),
  weight: z.number().int().min(0).max(I32_MAX).default(1),
  upperThreshold: z.number().int().min(0).max(U32_MAX).default(0),
  lowerThreshold: z.number().int().min(0).max(U32_MAX).default(0),
  tunnel: tunnelSchema.default({ ...DEFAULT_TUNNEL }),
};

function checkDestination(d: DestinationSpec, ctx: z.RefinementCtx): void {
  checkFamily(d, ctx);
  if (d.upperThreshold !== 0 && d.lowerThreshold > d.upperThreshold) {
    ctx.addIssue({
      code: 'custom',
      path: ['lowerThreshold'],
      message: `lower threshold ${d.lowerThreshold} is above the upper threshold ${d.upperThreshold}`,
    });
  }
  if (d.upperThreshold === 0 && d.lowerThreshold !== 0) {
    ctx.addIssue({ code: 'custom', path: ['lowerThreshold'], message: 'a lower threshold needs an upper threshold' });
  }
}

export const destinationSpecSchema: z.ZodType<DestinationSpec, unknown> = z
  .object(destinationFields)
  .superRefine(checkDestination);

export const destinationPatchSchema = z
  .object({
    forward: forwardSchema.optional(),
    weight: destinationFields.weight.removeDefault().optional(),
    upperThreshold: destinationFields.upperThreshold.removeDefault().optional(),
    lowerThreshold: destinationFields.lowerThreshold.removeDefault().optional(),
    tunnel: z
      .object({
        type: z.enum(['ipip', 'gue', 'gre']).optional(),
        port: portSchema.optional(),
        checksum: z.enum(['nocsum', 'csum', 'remcsum']).optional(),
      })
      .optional(),
  })
  .strict();
export type DestinationPatch = z.infer<typeof destinationPatchSchema>;

// ---- procedure inputs -------------------------------------------------------

export const serviceRefInput = z.object({ key: serviceKeySchema });

export const serviceCreateInput = z.object({
  service: serviceSpecSchema,
  destinations: z.array(destinationSpecSchema).max(4096).default([]),
});

export const serviceUpdateInput = z.object({ key: serviceKeySchema, patch: servicePatchSchema });

export const destinationCreateInput = z.object({ service: serviceKeySchema, destination: destinationSpecSchema });
export const destinationUpdateInput = z.object({
  service: serviceKeySchema,
  destination: destinationKeySchema,
  patch: destinationPatchSchema,
});
export const destinationRefInput = z.object({ service: serviceKeySchema, destination: destinationKeySchema });

export const zeroInput = z.object({ key: serviceKeySchema.optional() }).default({});

export const timeoutsSetInput = z
  .object({
    // INT_MAX / HZ with HZ up to 1000 (reference §6.1); 0 keeps the current value, as the kernel does
    tcp: z.number().int().min(0).max(2147483).optional(),
    tcpFin: z.number().int().min(0).max(2147483).optional(),
    udp: z.number().int().min(0).max(2147483).optional(),
  })
  .strict()
  .refine((t) => t.tcp !== undefined || t.tcpFin !== undefined || t.udp !== undefined, {
    message: 'give at least one of tcp, tcpFin, udp',
  });

export const snapshotFormatSchema = z.enum(['ipvsadm', 'json']);
export const snapshotExportInput = z.object({ format: snapshotFormatSchema.default('ipvsadm') }).default({ format: 'ipvsadm' });
export const snapshotPlanInput = z.object({
  format: snapshotFormatSchema,
  text: z.string().max(16 * 1024 * 1024),
  /** Remove services and destinations that the snapshot does not mention. */
  prune: z.boolean().default(false),
});
export const snapshotApplyInput = snapshotPlanInput;

export const connStateSchema = z.string().trim().min(1).max(16).regex(/^[A-Z_]+$/, 'state names are upper-case, e.g. ESTABLISHED');

export const cidrSchema = z
  .string()
  .trim()
  .max(64)
  .refine((s) => {
    const [addr, len] = s.split('/');
    if (canonicalAddress(addr ?? '') === null) return false;
    if (len === undefined) return true;
    // cidrContains validates the length against the family; test with the network address itself
    return /^\d{1,3}$/.test(len) && cidrContains(s, addr!);
  }, 'expected an address or CIDR, e.g. 10.0.0.0/8');

export const connectionsListInput = z.object({
  service: serviceKeySchema.optional(),
  destination: destinationKeySchema.optional(),
  state: connStateSchema.optional(),
  client: cidrSchema.optional(),
  protocol: protocolSchema.optional(),
  /** Opaque cursor from the previous page. */
  cursor: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(1000).default(100),
});

export const tickInput = z
  .object({ lastEventId: z.string().max(64).nullish() })
  .default({});

export const journalListInput = z
  .object({
    limit: z.number().int().min(1).max(1000).default(100),
    /** Entries with id below this one (paging backwards in time). */
    before: z.number().int().min(1).optional(),
  })
  .default({ limit: 100 });
