/**
 * The ZooKeeper registry of directors waiting to be enrolled: each agent that
 * serves TLS and takes part in HA keeps an ephemeral `<root>/registry/<id>`
 * whose data is an enrollment code (lib/enroll/code.ts). Only the cluster's
 * digest identity may read it, so the code's secret stays among the directors;
 * a console reads the entries through an enrolled agent (ha.registry) and
 * redeems a code when an admin approves it.
 *
 * Entries come from ZooKeeper: anyone holding the cluster's credentials could
 * have written them, so each is checked here and a bad one is skipped with why.
 */
import { z } from 'zod';
import { decodeCode, FINGERPRINT_RE } from './code';

/** the agent's director id (lib/schemas/ha's `director`) */
export const REGISTRY_ID_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** a code is well under this; anything longer is not one */
export const MAX_REGISTRY_DATA = 2048;
/** how many entries a listing reads at most */
export const MAX_REGISTRY_ENTRIES = 200;
/** a registration code's lifetime: a fresh one replaces it after this, or once it was redeemed */
export const REGISTRY_CODE_TTL_MS = 24 * 3600_000;

export const registryEntrySchema = z.strictObject({
  directorId: z.string().regex(REGISTRY_ID_RE),
  url: z.string().max(300),
  fingerprint: z.string().regex(FINGERPRINT_RE),
  code: z.string().max(MAX_REGISTRY_DATA),
});
export type RegistryEntry = z.infer<typeof registryEntrySchema>;

export const registryListingSchema = z.strictObject({
  entries: z.array(registryEntrySchema).max(MAX_REGISTRY_ENTRIES),
  skipped: z.array(z.strictObject({ node: z.string().max(200), reason: z.string().max(500) })).max(MAX_REGISTRY_ENTRIES + 1),
});
export type RegistryListing = z.infer<typeof registryListingSchema>;

export const registryPaths = (root: string) => ({
  dir: `${root}/registry`,
  entry: (director: string) => `${root}/registry/${director}`,
});

/** The znode's data for a code. */
export const encodeRegistryData = (code: string): Uint8Array => new TextEncoder().encode(code);

/** One znode (its name and data) as an entry, or why it is not one. */
export function parseRegistryNode(name: string, data: Uint8Array | null | undefined): { entry: RegistryEntry } | { reason: string } {
  if (!REGISTRY_ID_RE.test(name)) return { reason: 'the node name is not a director id' };
  if (!data || data.length === 0) return { reason: 'no data' };
  if (data.length > MAX_REGISTRY_DATA) return { reason: `data of ${data.length} bytes is too large for an enrollment code` };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return { reason: 'data is not UTF-8' };
  }
  try {
    const c = decodeCode(text);
    return { entry: registryEntrySchema.parse({ directorId: name, url: c.url, fingerprint: c.fingerprint, code: text.trim() }) };
  } catch (e) {
    // decodeCode's messages never echo the secret
    return { reason: (e as Error).message.slice(0, 300) };
  }
}
