/**
 * Finding and starting a worker thread's script, from sources or from a
 * bundle, for the agent's off-thread parsers (connection table, snapshots).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export interface WorkerSpec {
  url: URL;
  /** Run `url` through tsx, whose ES module hooks resolved to `tsx`. */
  tsx?: string;
}

/**
 * The worker beside the calling module (`here`, its import.meta.url): the
 * TypeScript `source` when running from sources, else `bundled` written next
 * to the bundle (its entry file or a chunk one folder down); null when
 * neither can be started in this process.
 */
export function locateWorker(here: string, source: string, bundled: string): WorkerSpec | null {
  if (here.startsWith('file:') && /\.[cm]?tsx?$/.test(new URL(here).pathname)) {
    // Node 20 applies neither the parent's module hooks nor an --import in execArgv to a worker, and
    // tsx's own --import entry skips worker threads: the worker registers tsx's hooks itself (startWorker)
    try {
      const api = import.meta.resolve?.('tsx/esm/api') ?? createRequire(here).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs');
      const tsx = api.startsWith('file:') ? api : pathToFileURL(api).href;
      if (!existsSync(fileURLToPath(tsx))) return null;
      return { url: new URL(`./${source}`, here), tsx };
    } catch {
      return null;
    }
  }
  for (const rel of [`./${bundled}`, `../${bundled}`]) {
    try {
      const url = new URL(rel, here);
      if (existsSync(fileURLToPath(url))) return { url };
    } catch { /* not a file: URL */ }
  }
  return null;
}

/** Starts the worker; a failed import in it surfaces as the worker's 'error' event. */
export function startWorker(s: WorkerSpec, opts: WorkerOptions): Worker {
  if (!s.tsx) return new Worker(s.url, opts);
  const bootstrap = `import(${JSON.stringify(s.tsx)}).then((m) => { m.register(); return import(${JSON.stringify(s.url.href)}); });`;
  return new Worker(bootstrap, { ...opts, eval: true });
}
