/**
 * Where Director keeps its coordination state in ZooKeeper, and the shape of
 * what it writes there. Ephemeral znodes vanish with their session, so a
 * lease or a member entry proves that its owner's session is alive.
 */
import { z } from 'zod';

export const zkPaths = (root: string) => ({
  root,
  groups: `${root}/groups`,
  group: (g: string) => `${root}/groups/${g}`,
  /** ephemeral: who may hold the group's VIPs */
  lease: (g: string) => `${root}/groups/${g}/lease`,
  members: (g: string) => `${root}/groups/${g}/members`,
  /** ephemeral: a director taking part in the group */
  member: (g: string, director: string) => `${root}/groups/${g}/members/${director}`,
  /** persistent: the desired IPVS table (ipvsadm -Sn text); the znode version is the table version */
  table: `${root}/table`,
});

export const leaseDataSchema = z.object({ director: z.string(), since: z.number(), priority: z.number() });
export type LeaseData = z.infer<typeof leaseDataSchema>;

export const memberDataSchema = z.object({
  priority: z.number(),
  preempt: z.boolean(),
  maintenance: z.boolean(),
  vrrpState: z.string(),
  vipsPresent: z.array(z.string()),
});
export type MemberData = z.infer<typeof memberDataSchema>;

/** A znode's bytes as JSON checked against a schema; null for anything else (a foreign or torn write). */
export function readJson<T>(schema: z.ZodType<T>, data: Uint8Array | null | undefined): T | null {
  if (!data || data.length === 0) return null;
  try {
    const r = schema.safeParse(JSON.parse(new TextDecoder().decode(data)));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export const writeJson = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
