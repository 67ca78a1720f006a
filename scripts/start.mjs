#!/usr/bin/env node
/**
 * `npm start`: on a fresh clone node_modules, and with it tsx, which runs
 * server/lab/start.ts, do not exist yet. So this plain-JavaScript step
 * installs them first (npm ci, scripts/install.mjs; start.ts installs the
 * Debian packages it needs the same way), then hands over to start.ts with the same
 * arguments, relays signals to it, waits for its clean-up and exits with its
 * status.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNodeModules } from './install.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (!ensureNodeModules(root, { who: 'npm start' })) process.exit(1);
const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server/lab/start.ts'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
// relay signals sent to this process alone (a supervisor, kill); start.ts ignores repeats of one it is handling
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
