/**
 * The snapshot parser's worker thread (started by server/snapshot/parse-off-thread.ts):
 * parses one ipvsadm or JSON snapshot text and posts the result back, so a
 * large restore or plan does not hold the agent's event loop for the parse
 * (a 1 MiB ipvsadm text is about 0.4 s of it).
 *
 * Imports are relative (not '@/...') so the file loads from any working
 * directory under tsx, and bundles on its own (scripts/build-cli.mjs,
 * server/lab/bundle.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readSnapshotJson } from '../../lib/snapshot/json';
import { parseSnapshot } from '../../lib/snapshot/parse';
import { numericOnly } from '../../lib/snapshot/resolve';

export const SNAPSHOT_WORKER_MARK = 'directorSnapshotWorker';

export interface SnapshotParseJob {
  format: 'ipvsadm' | 'json';
  text: string;
}

export type SnapshotParseResult =
  | { format: 'json'; result: ReturnType<typeof readSnapshotJson> }
  | { format: 'ipvsadm'; result: Awaited<ReturnType<typeof parseSnapshot>> };

export async function parseJob(job: SnapshotParseJob): Promise<SnapshotParseResult> {
  if (job.format === 'json') return { format: 'json', result: readSnapshotJson(job.text) };
  return { format: 'ipvsadm', result: await parseSnapshot(job.text, { resolver: numericOnly }) };
}

const data = workerData as Record<string, unknown> | null;
if (parentPort && data?.[SNAPSHOT_WORKER_MARK] === true) {
  const port = parentPort;
  parseJob(data.job as SnapshotParseJob).then(
    // as JSON text: the main thread's JSON.parse of it is much quicker than structured clone's rebuild of the objects
    (r) => port.postMessage({ ok: true, json: JSON.stringify(r) }),
    (e: unknown) => port.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) }),
  );
}
