/** What the lab's traffic generator (server/lab/guest/traffic.mjs) reports. */
import { z } from 'zod';

const serviceTraffic = z.object({
  method: z.string(),
  address: z.string(),
  port: z.number(),
  sent: z.number(),
  ok: z.number(),
  failed: z.number(),
  skipped: z.number(),
  inflight: z.number(),
  /** successful responses per real server address ("from 192.168.150.12") */
  byServer: z.record(z.string(), z.number()),
  /** a service reached by name (master-master lab): answers per VIP the name resolved to */
  byAddress: z.record(z.string(), z.object({ ok: z.number(), failed: z.number() })).optional(),
  /** what the name resolved to for the last request, and when */
  lastAnswer: z.array(z.string()).optional(),
  lastAnswerAt: z.number().nullable().optional(),
  lastError: z.string().nullable(),
  lastErrorAt: z.number().nullable(),
  okPerSec: z.number(),
  failedPerSec: z.number(),
});
export const trafficSchema = z.object({
  at: z.number(),
  pid: z.number(),
  rate: z.number(),
  services: z.record(z.string(), serviceTraffic),
});
export type Traffic = z.infer<typeof trafficSchema>;
