#!/usr/bin/env node
/**
 * Bundles the CLI into dist/cli/ (ESM, code-split per command) so a
 * `director` process loads a handful of files instead of transpiling
 * hundreds of TypeScript modules through tsx at every start: in the lab
 * kernel, where each file access is slow, start-up dominated `director list`.
 * bin/director.mjs uses the bundle when it exists, tsx otherwise.
 */
import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// --outdir DIR: where to write (scripts/package.mjs builds into the package's tree)
const at = process.argv.indexOf('--outdir');
const outdir = at > 0 ? path.resolve(process.argv[at + 1]) : path.join(root, 'dist/cli');
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
// server/cli/version.ts reads this instead of a package.json the bundle does not have
const define = { DIRECTOR_BUILD_VERSION: JSON.stringify(version) };
const commands = readdirSync(path.join(root, 'server/cli/commands'))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

// The commands folder is read at run time by main.ts; a bundle has none, so hand it static loaders.
const entry = `import { runCli } from './server/cli/main.ts';
const loaders = {
${commands.map((c) => `  ${JSON.stringify(c)}: () => import('./server/cli/commands/${c}.ts'),`).join('\n')}
};
export function main(argv) { return runCli(argv, undefined, loaders); }
// The bundled connection-table reader, for the bench and for checking its worker loads from the bundle
// (no CLI command reads the table); a dynamic import, so CLI start-up does not pay for it.
export const connReader = () => import('./server/conn/reader.ts');
`;

// Build beside the live bundle and swap it in: a director process started meanwhile (a bench or lab
// run in another kernel) must never find dist/cli half-written or gone.
const tmpdir = `${outdir}.tmp-${process.pid}`;
rmSync(tmpdir, { recursive: true, force: true });
await build({
  stdin: { contents: entry, resolveDir: root, sourcefile: 'director-cli-entry.mjs', loader: 'js' },
  outdir: tmpdir,
  entryNames: 'director',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  tsconfig: path.join(root, 'tsconfig.json'),
  // native addon (loads its .node file relative to its package) and ws's optional native helpers
  external: ['netlink', 'bufferutil', 'utf-8-validate'],
  define,
  // CommonJS dependencies bundled into ESM still call require() for node built-ins
  banner: { js: "import { createRequire as __directorCreateRequire } from 'node:module'; const require = __directorCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
// The connection-table reader's worker thread (server/conn/worker.ts): its own self-contained entry,
// which server/conn/reader.ts looks for beside the bundle, since esbuild does not follow `new Worker`.
await build({
  entryPoints: [path.join(root, 'server/conn/worker.ts')],
  outfile: path.join(tmpdir, 'conn-worker.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  tsconfig: path.join(root, 'tsconfig.json'),
  sourcemap: 'linked',
  logLevel: 'warning',
});
// The snapshot parser's worker thread (server/snapshot/parse-worker.ts), looked for beside the bundle
// by server/snapshot/parse-off-thread.ts; without it large snapshots parse on the main thread.
await build({
  entryPoints: [path.join(root, 'server/snapshot/parse-worker.ts')],
  outfile: path.join(tmpdir, 'snapshot-worker.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  tsconfig: path.join(root, 'tsconfig.json'),
  banner: { js: "import { createRequire as __directorCreateRequire } from 'node:module'; const require = __directorCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
const old = `${outdir}.old-${process.pid}`;
try { renameSync(outdir, old); } catch { /* first build */ }
renameSync(tmpdir, outdir);
rmSync(old, { recursive: true, force: true });
process.stdout.write(`built ${path.relative(root, outdir) || outdir}/director.mjs (${commands.length} commands: ${commands.join(', ')}) conn-worker.mjs and snapshot-worker.mjs\n`);
