/**
 * The console as a folder of its own, which its unprivileged user can read
 * wherever the checkout is: Next's standalone output (the server chunks and
 * only the node modules they need, ~45 MB), its static files, and the
 * console server (console/server.ts) bundled with esbuild. `npm start`
 * builds one per run when it runs the console as `nobody`, because that user
 * cannot read a checkout under a 0700 folder such as /root (and the
 * operator's folders keep their modes). Plain JavaScript, so packaging can
 * use it too.
 *
 *   node DEST/console.mjs     (PORT, HOST and the console's configuration in the environment)
 */
import { chmodSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

/** Why a folder cannot be assembled (no standalone build). */
export class ConsoleBuildMissing extends Error {
  name = 'ConsoleBuildMissing';
}

/**
 * Copies `src` into `dest`: folders 0755, files 0644 (0755 when the source
 * had an execute bit), whatever the umask they were built under; symbolic
 * links are copied as what they point to, so nothing leads back out.
 */
export function copyReadable(src, dest, keep = () => true) {
  if (!keep(src)) return;
  let st;
  try {
    st = statSync(src);
  } catch {
    return; // a dangling link
  }
  if (st.isDirectory()) {
    mkdirSync(dest, { recursive: true });
    chmodSync(dest, 0o755);
    for (const name of readdirSync(src)) copyReadable(path.join(src, name), path.join(dest, name), keep);
    return;
  }
  if (!st.isFile()) return;
  copyFileSync(src, dest, constants.COPYFILE_FICLONE);
  chmodSync(dest, st.mode & 0o111 ? 0o755 : 0o644);
}

// Next reads its configuration from the project folder, which the copy does not hold; its standalone
// server.js sets this variable instead, before loading next (a static import would run too early).
const LAUNCHER = `// The Director console, from its own folder (scripts/console-runtime.mjs).
import { readFileSync } from 'node:fs';
process.env.__NEXT_PRIVATE_STANDALONE_CONFIG ??= JSON.stringify(
  JSON.parse(readFileSync(new URL('./.next/required-server-files.json', import.meta.url), 'utf8')).config);
await import('./console/server.mjs');
`;

/**
 * Builds the console's folder at `dest` from `root`'s Next build (which must
 * have been made with `output: 'standalone'`). Returns the entry point.
 */
export async function assembleConsole({ root, dest }) {
  const standalone = path.join(root, '.next', 'standalone');
  if (!existsSync(path.join(standalone, 'server.js'))) {
    throw new ConsoleBuildMissing(`${standalone}/server.js is missing: build the console with next build (next.config.js sets output: 'standalone')`);
  }
  copyReadable(standalone, dest);
  // Turbopack also emits a worker's TypeScript source as a media file for its new URL(); the worker
  // runs from compiled chunks (turbopack-worker), so no source ships
  copyReadable(path.join(root, '.next', 'static'), path.join(dest, '.next', 'static'), (p) => !/\.tsx?$/.test(p) || p.endsWith('.d.ts'));
  if (existsSync(path.join(root, 'public'))) copyReadable(path.join(root, 'public'), path.join(dest, 'public'));
  // Next's standalone server.js would start Next's own server, without sign-in or forwarding
  const outfile = path.join(dest, 'console', 'server.mjs');
  await build({
    entryPoints: [path.join(root, 'console', 'server.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // next: the standalone copy beside it; the others are optional native speed-ups of ws
    external: ['next', 'bufferutil', 'utf-8-validate'],
    tsconfig: path.join(root, 'tsconfig.json'),
    // CommonJS dependencies inside an ES module bundle still call require()
    banner: { js: "import { createRequire as __directorRequire } from 'node:module'; const require = __directorRequire(import.meta.url);" },
    logLevel: 'warning',
    legalComments: 'none',
  });
  chmodSync(path.dirname(outfile), 0o755);
  chmodSync(outfile, 0o644);
  const entry = path.join(dest, 'console.mjs');
  writeFileSync(entry, LAUNCHER, { mode: 0o644 });
  chmodSync(entry, 0o644);
  chmodSync(dest, 0o755);
  return entry;
}
