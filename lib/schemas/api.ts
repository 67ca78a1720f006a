/**
 * Input schemas of the agent's tRPC procedures, shared with the console's forms.
 * The IPVS object schemas come from lib/schemas/ipvs.ts and are re-exported,
 * so a form and the procedure it calls validate with the same rules.
 */
import { z } from 'zod';
import {
  CONN_TIMEOUT, MAX_NAME_LENGTH, MAX_NETMASK_TEXT, NAME_TEXT, SYNC_ID, SYNC_MAXLEN, SYNC_PORT, SYNC_TTL, TUNNEL_CHECKSUMS, TUNNEL_TYPES, boundText,
} from '../ipvs/rules';
import { ADDRESS_OR_CIDR_HINT, isAddressOrCidr } from '../net/ip';
import { destinationId, serviceId } from '../ipvs/ids';
import {
  addressSchema, destinationKeySchema, destinationSpecSchema, familySchema, forwardSchema, peNameSchema,
  portSchema, protocolSchema, schedulerSchema, serviceKeySchema, serviceSpecSchema, thresholdSchema,
  timeoutSchema, weightSchema,
} from './ipvs';

export {
  addressSchema, destinationKeySchema, destinationSpecSchema, familySchema, forwardSchema,
  KNOWN_SCHEDULERS, portSchema, protocolSchema, schedulerSchema, serviceFlagsSchema,
  serviceKeySchema, serviceSpecSchema, tunnelSchema,
} from './ipvs';

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
    timeout: timeoutSchema.optional(),
    netmask: z.string().trim().max(MAX_NETMASK_TEXT).optional(),
    pe: peNameSchema.nullable().optional(),
  })
  .strict();
export type ServicePatch = z.infer<typeof servicePatchSchema>;

export const destinationPatchSchema = z
  .object({
    forward: forwardSchema.optional(),
    weight: weightSchema.optional(),
    upperThreshold: thresholdSchema.optional(),
    lowerThreshold: thresholdSchema.optional(),
    tunnel: z
      .object({
        type: z.enum(TUNNEL_TYPES).optional(),
        port: portSchema.optional(),
        checksum: z.enum(TUNNEL_CHECKSUMS).optional(),
      })
      .optional(),
  })
  .strict();
export type DestinationPatch = z.infer<typeof destinationPatchSchema>;

// ---- procedure inputs -------------------------------------------------------

export const serviceRefInput = z.object({ key: serviceKeySchema });

/**
 * services.list/get serve the hub's table as last read (each service's readAt says when). `maxAgeMs`: read the
 * table again first if that is older (the cheap way: /proc and one service dump); `fresh`: read every real
 * server's counters now (one dump per service).
 */
const readInput = {
  fresh: z.boolean().default(false),
  maxAgeMs: z.number().int().min(0).max(86_400_000).optional(),
};
export const serviceListInput = z.object(readInput).default({ fresh: false });
export const serviceGetInput = serviceRefInput.extend(readInput);

export const serviceCreateInput = z.object({
  service: serviceSpecSchema,
  destinations: z.array(destinationSpecSchema).max(4096).default([]),
});

export const serviceUpdateInput = z.object({ key: serviceKeySchema, patch: servicePatchSchema });

/** Slow start: from weight 1 to the weight given, in steps over this many seconds. */
export const slowStartSecSchema = z.number().int('slow start is whole seconds').min(2, 'slow start is at least 2 s').max(3600, 'slow start is at most 3600 s (1 h)');
export const destinationCreateInput = z.object({ service: serviceKeySchema, destination: destinationSpecSchema, slowStartSec: slowStartSecSchema.optional() });
export const destinationUpdateInput = z.object({
  service: serviceKeySchema,
  destination: destinationKeySchema,
  patch: destinationPatchSchema,
});
export const destinationRefInput = z.object({ service: serviceKeySchema, destination: destinationKeySchema });
/** destinations.drain: weight 0; removeWhenDrained: then remove it once no connection or template is left. */
export const drainInput = destinationRefInput.extend({ removeWhenDrained: z.boolean().optional() });
/** Drain a set of real servers at once (a rack, a host leaving), each journaled. */
export const drainManyInput = z.object({
  items: z.array(destinationRefInput).min(1, 'name at least one real server').max(256, 'at most 256 real servers at once')
    .superRefine((items, c) => {
      // a server named twice is a mistake in the list, not a second drain
      const seen = new Map<string, number>();
      items.forEach((it, i) => {
        const id = `${serviceId(it.service)}/${destinationId(it.destination)}`;
        const first = seen.get(id);
        if (first !== undefined) c.addIssue({ code: 'custom', path: [i], message: `names the same real server as items.${first}` });
        else seen.set(id, i);
      });
    }),
  removeWhenDrained: z.boolean().optional(),
});
/** Put a real server on weight 1 and climb to `weight` over `seconds`. */
export const slowStartInput = destinationRefInput.extend({ weight: z.number().int().min(2, 'a slow start climbs to a weight of 2 or more').max(65535), seconds: slowStartSecSchema });

export const zeroInput = z.object({ key: serviceKeySchema.optional() }).default({});

const connTimeoutSchema = (name: string) => z.number().int(`${name} must be whole seconds`)
  .min(CONN_TIMEOUT.min, `${name} must be ${boundText(CONN_TIMEOUT)} s`).max(CONN_TIMEOUT.max, `${name} must be ${boundText(CONN_TIMEOUT)} s`);

export const timeoutsSetInput = z
  .object({
    tcp: connTimeoutSchema('tcp').optional(),
    tcpFin: connTimeoutSchema('tcpFin').optional(),
    udp: connTimeoutSchema('udp').optional(),
  })
  .strict()
  .refine((t) => t.tcp !== undefined || t.tcpFin !== undefined || t.udp !== undefined, {
    message: 'give at least one of tcp, tcpFin, udp',
  });

/** ipvsadm --start-daemon: the kernel's own bounds (reference §3.5, §8.1) */
export const syncStartInput = z.object({
  state: z.enum(['master', 'backup']),
  interface: z.string().regex(NAME_TEXT, `an interface name: 1-${MAX_NAME_LENGTH} visible characters`).refine((s) => !s.includes('/'), 'an interface name has no /'),
  syncId: z.number().int().min(SYNC_ID.min).max(SYNC_ID.max),
  maxLen: z.number().int().min(SYNC_MAXLEN.min).max(SYNC_MAXLEN.max).optional(),
  group: z.string().max(64).refine((g) => {
    const v4 = /^(\d{1,3})\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.exec(g);
    if (v4) return Number(v4[1]) >= 224 && Number(v4[1]) <= 239 && g.split('.').every((x) => Number(x) <= 255);
    return /^ff[0-9a-f]{2}:[0-9a-f:]*$/i.test(g);
  }, 'a multicast group: 224.0.0.0-239.255.255.255 or ff00::/8').optional(),
  port: z.number().int().min(SYNC_PORT.min).max(SYNC_PORT.max).optional(),
  ttl: z.number().int().min(SYNC_TTL.min).max(SYNC_TTL.max).optional(),
}).strict();
export const syncStopInput = z.object({ state: z.enum(['master', 'backup']) }).strict();

export const snapshotFormatSchema = z.enum(['ipvsadm', 'json', 'keepalived']);
export const snapshotExportInput = z.object({
  format: snapshotFormatSchema.default('ipvsadm'),
  /** ipvsadm text: append -x/-y where real servers have thresholds (ipvsadm -Sn itself leaves them out). */
  thresholds: z.boolean().default(true),
}).default({ format: 'ipvsadm', thresholds: true });
export const snapshotPlanInput = z.object({
  format: snapshotFormatSchema,
  text: z.string().max(16 * 1024 * 1024),
  /** Remove services and destinations that the snapshot does not mention. */
  prune: z.boolean().default(false),
});
const progressIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'progressId is 8-64 letters, digits, _ or -');
export const snapshotApplyInput = snapshotPlanInput.extend({
  /** Chosen by the caller; snapshot.onRestoreProgress with the same id follows this restore. */
  progressId: progressIdSchema.optional(),
});
export const restoreProgressInput = z.object({ progressId: progressIdSchema });

export const connStateSchema = z.string().trim().min(1).max(16).regex(/^[A-Z_]+$/, 'state names are upper-case, e.g. ESTABLISHED');

export const cidrSchema = z
  .string()
  .trim()
  .max(64)
  .refine(isAddressOrCidr, ADDRESS_OR_CIDR_HINT);

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

/** connections.lens: the persistence templates of a client (address or CIDR) and/or a service. */
export const connectionsLensInput = z.object({
  service: serviceKeySchema.optional(),
  client: cidrSchema.optional(),
  limit: z.number().int().min(1).max(1000).default(200),
});

export const tickInput = z
  .object({ lastEventId: z.string().max(64).nullish() })
  .default({});

/** stats.onTick: `watch` names services (ids as in ticks) whose real servers' counters are read every tick. */
export const statsTickInput = z
  .object({
    lastEventId: z.string().max(64).nullish(),
    watch: z.array(z.string().min(1).max(128)).max(16).default([]),
  })
  .default({ watch: [] });

export const journalListInput = z
  .object({
    limit: z.number().int().min(1).max(1000).default(100),
    /** Entries with id below this one (paging backwards in time). */
    before: z.number().int().min(1).optional(),
  })
  .default({ limit: 100 });
