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

/**
 * The replicated table as it sits in `<root>/table`: ipvsadm -Sn text with a
 * sequence number, the publisher's clock and an HMAC-SHA256 (hex) by the key
 * the directors of the cluster share. Anyone else who can write the znode
 * (ZooKeeper credentials alone are not enough) produces a payload every
 * director refuses.
 */
export const SIGNED_TABLE_FORMAT = 'director-table/1';
/** ZooKeeper's default jute.maxbuffer: a znode holds at most about 1 MiB */
export const MAX_TABLE_PAYLOAD_BYTES = 1024 * 1024;

export const signedTableSchema = z.object({
  format: z.literal(SIGNED_TABLE_FORMAT),
  /** orders payloads across directors: above every sequence seen so far, and at least the publisher's clock in ms */
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  ts: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  director: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/),
  table: z.string().max(MAX_TABLE_PAYLOAD_BYTES),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});
export type SignedTable = z.infer<typeof signedTableSchema>;

/**
 * The bytes the MAC covers: format, cluster root (a payload is not valid under another root), sequence, time,
 * publisher and the table, one per line with the table last (it is the only part that may hold newlines).
 */
export function signedTableMessage(root: string, p: Omit<SignedTable, 'mac' | 'format'>): string {
  return `${SIGNED_TABLE_FORMAT}\n${root}\n${p.seq}\n${p.ts}\n${p.director}\n${p.table}`;
}
