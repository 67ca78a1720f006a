/**
 * The JSON form of a snapshot: the rules plus where and when they were taken.
 * Versioned so a later format can be told apart; rules are validated with
 * the shared IPVS schemas, so a JSON snapshot is held to the same bounds as
 * API input and restored text.
 */
import { z } from 'zod';
import { serviceTableSchema } from '../schemas/ipvs';
import { healthTableSchema } from '../schemas/health';
import { SNAPSHOT_VERSION } from './json-write';

export { SNAPSHOT_VERSION, makeSnapshot, stringifySnapshot, toRules, type WrittenSnapshot } from './json-write';

export const snapshotSchema = z.object({
  version: z.literal(SNAPSHOT_VERSION),
  createdAt: z.iso.datetime({ offset: true, error: 'createdAt must be an ISO 8601 date-time' }),
  host: z.string().max(253, 'host is too long'),
  ipvs: z.object({ version: z.string().max(32) }),
  services: serviceTableSchema,
  /** Health checks per service (optional: snapshots from before health checks have none). */
  health: healthTableSchema.optional(),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export type SnapshotReadResult = { ok: true; snapshot: Snapshot } | { ok: false; errors: { path: string; message: string }[] };

export function readSnapshotJson(text: string): SnapshotReadResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [{ path: '', message: `not JSON: ${(e as Error).message}` }] };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, errors: [{ path: '', message: 'a snapshot is a JSON object with version, createdAt, host, ipvs, services' }] };
  }
  const v = (data as { version?: unknown }).version;
  if (v !== SNAPSHOT_VERSION) {
    return {
      ok: false,
      errors: [{
        path: 'version',
        message: v === undefined
          ? `missing snapshot version (this Director reads version ${SNAPSHOT_VERSION})`
          : `unsupported snapshot version ${JSON.stringify(v)}: this Director reads version ${SNAPSHOT_VERSION}`,
      }],
    };
  }
  const r = snapshotSchema.safeParse(data);
  if (!r.success) {
    return { ok: false, errors: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) };
  }
  return { ok: true, snapshot: r.data };
}
