/**
 * Bundles the agent into one ES module for the lab kernel. Node inside
 * user-mode Linux pays for every file it opens and every module it compiles;
 * one bundle (only the native `netlink` addon stays outside) starts several
 * times faster than tsx there.
 */
import path from 'node:path';
import { build } from 'esbuild';

export async function bundleAgent(projectRoot: string): Promise<string> {
  const outfile = path.join(projectRoot, '.lab', 'agent.mjs');
  await build({
    entryPoints: [path.join(projectRoot, 'server/lab/agent-entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['netlink'],
    tsconfig: path.join(projectRoot, 'tsconfig.json'),
    // CommonJS dependencies inside an ES module bundle still call require()
    banner: { js: "import { createRequire as __directorRequire } from 'node:module'; const require = __directorRequire(import.meta.url);" },
    logLevel: 'warning',
    legalComments: 'none',
  });
  // the connection-table reader's worker thread, which server/conn/reader.ts looks for beside the bundle
  // (esbuild does not follow `new Worker`); without it the agent parses on its main thread
  await build({
    entryPoints: [path.join(projectRoot, 'server/conn/worker.ts')],
    outfile: path.join(projectRoot, '.lab', 'conn-worker.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    tsconfig: path.join(projectRoot, 'tsconfig.json'),
    logLevel: 'warning',
    legalComments: 'none',
  });
  // the snapshot parser's worker thread, which server/snapshot/parse-off-thread.ts looks for beside the bundle
  await build({
    entryPoints: [path.join(projectRoot, 'server/snapshot/parse-worker.ts')],
    outfile: path.join(projectRoot, '.lab', 'snapshot-worker.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    tsconfig: path.join(projectRoot, 'tsconfig.json'),
    banner: { js: "import { createRequire as __directorRequire } from 'node:module'; const require = __directorRequire(import.meta.url);" },
    logLevel: 'warning',
    legalComments: 'none',
  });
  return outfile;
}
