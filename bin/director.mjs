#!/usr/bin/env -S node --no-memory-reducer
// --no-memory-reducer: V8's memory reducer runs three major GCs some seconds after a burst of allocation
// (the agent's once-a-minute full read), 30-150 ms each at 1,000 services in the lab kernel: the idle
// agent's largest CPU spikes, to hand back a few MB of a 30 MB heap. A daemon's heap stays at its working
// size (RSS is measured in bench/). It must be given on node's command line: set at run time
// (v8.setFlagsFromString) it changed nothing in the lab. Whoever starts the agent with `node` passes it too.
// Runs the CLI from the bundle built by `npm run build:cli` when there is one
// (start-up is far cheaper), else the TypeScript sources through tsx so
// `director` works from a checkout without a build step.
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
  // tsx as a loader, not its CLI (which runs the code in a further child): this process's node flags
  // (--no-memory-reducer) then reach the process that runs the command
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  // tsx looks for tsconfig.json (the '@/' paths) in the working directory: name the checkout's, so
  // `director` works from any folder
  const env = { ...process.env, TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.json') };
  // loaded here only: child_process brings some 40 of node's internal modules that the bundle's start-up never needs
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [...process.execArgv, '--import', tsx, path.join(root, 'server/cli/main.ts'), ...process.argv.slice(2)], { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}
