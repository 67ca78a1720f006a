#!/usr/bin/env node
// Runs the CLI from the bundle built by `npm run build:cli` when there is one
// (start-up is far cheaper), else the TypeScript sources through tsx so
// `director` works from a checkout without a build step.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(root, 'dist/cli/director.mjs');
if (existsSync(bundle) && process.env.DIRECTOR_NO_BUNDLE !== '1') {
  const { main } = await import(pathToFileURL(bundle).href);
  process.exitCode = await main(process.argv.slice(2));
} else {
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const r = spawnSync(process.execPath, [tsx, path.join(root, 'server/cli/main.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
