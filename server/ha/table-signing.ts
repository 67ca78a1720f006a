/**
 * Signing and checking the replicated table (`<root>/table`): HMAC-SHA256
 * with the cluster's table key over sequence, time, publisher and table (see
 * signedTableMessage). A payload is refused when it is not a signed payload,
 * its MAC does not match, or it is older than the last one this director
 * applied or published (a replay of an old, validly signed table).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  MAX_TABLE_PAYLOAD_BYTES, SIGNED_TABLE_FORMAT, signedTableMessage, signedTableSchema, type SignedTable,
} from '@/lib/ha/zk-layout';

/** The newest payload this director applied or published: later payloads must not go back behind it. */
export interface LastSeen { seq: number; mac: string }

export type TableVerdict =
  | { ok: true; payload: SignedTable; /** the very payload last applied or published */ same: boolean }
  | { ok: false; reason: string; seq: number | null };

function mac(key: Uint8Array, root: string, p: Omit<SignedTable, 'mac' | 'format'>): Buffer {
  return createHmac('sha256', key).update(signedTableMessage(root, p), 'utf8').digest();
}

export function signTable(key: Uint8Array, root: string, p: { seq: number; ts: number; director: string; table: string }): SignedTable {
  return { format: SIGNED_TABLE_FORMAT, seq: p.seq, ts: p.ts, director: p.director, table: p.table, mac: mac(key, root, p).toString('hex') };
}

export const encodeSignedTable = (s: SignedTable): Buffer => Buffer.from(JSON.stringify(s), 'utf8');

/** The sequence for a new payload: after the current one and the last seen, and at least the clock (see SIGNED_TABLE_FORMAT). */
export function nextSeq(current: number | null, last: LastSeen | null, now = Date.now()): number {
  return Math.max((current ?? -1) + 1, (last?.seq ?? -1) + 1, Math.floor(now));
}

export function verifyTable(key: Uint8Array, root: string, data: Uint8Array | null | undefined, last: LastSeen | null): TableVerdict {
  if (!data || data.length === 0) return { ok: false, reason: 'unsigned: the shared table znode is empty', seq: null };
  if (data.length > MAX_TABLE_PAYLOAD_BYTES + 4096) return { ok: false, reason: `unsigned: ${data.length} bytes is larger than any signed table`, seq: null };
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return { ok: false, reason: 'unsigned: the shared table is not a signed payload (plain text or garbage)', seq: null };
  }
  const parsed = signedTableSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    return { ok: false, reason: `unsigned: the shared table is not a signed payload (${i.path.join('.') || 'payload'}: ${i.message})`, seq: null };
  }
  const p = parsed.data;
  const want = mac(key, root, p);
  const got = Buffer.from(p.mac, 'hex');
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    return { ok: false, reason: `invalid signature on the shared table (sequence ${p.seq}, claims to be from ${p.director}): not signed with this cluster's table key`, seq: p.seq };
  }
  if (last) {
    if (p.seq < last.seq) {
      return { ok: false, reason: `stale: the shared table's sequence ${p.seq} (from ${p.director}) is older than the last applied ${last.seq}`, seq: p.seq };
    }
    if (p.seq === last.seq) {
      if (p.mac !== last.mac) return { ok: false, reason: `stale: another table with the already applied sequence ${p.seq} (from ${p.director})`, seq: p.seq };
      return { ok: true, payload: p, same: true };
    }
  }
  return { ok: true, payload: p, same: false };
}
