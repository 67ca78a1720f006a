/**
 * Starts the lab the way a user does (`npm start -- --lab`), on its own
 * console port, and waits for its DIRECTOR_READY line. The details the specs
 * need (console URL, sign-in, agent URL and tokens) go to e2e/.lab.json.
 */
import { spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
export const LAB_INFO = path.join(root, 'test-results', 'e2e-lab.json');
const LOG = path.join(root, 'test-results', 'e2e-lab.log');

export default async function globalSetup(): Promise<void> {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.dirname(LAB_INFO), { recursive: true });
  if (process.env.E2E_REUSE_LAB === '1') {
    // while writing specs: use a running `npm start -- --lab` and leave it running (no pid: teardown keeps it)
    const state = JSON.parse(readFileSync(path.join(root, '.state', 'start.json'), 'utf8')) as Record<string, unknown>;
    if (state.mode !== 'lab' || typeof state.consoleUrl !== 'string') throw new Error('E2E_REUSE_LAB=1 needs a running npm start -- --lab with its console');
    writeFileSync(LAB_INFO, JSON.stringify({ ...state, pid: undefined }, null, 2));
    return;
  }
  const log = openSync(LOG, 'w');
  // node --import tsx rather than the tsx CLI: its wrapper process cuts the start script's cleanup short on Ctrl-C
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/lab/start.ts', '--lab', '--port', '3210'], {
    cwd: root, stdio: ['ignore', 'pipe', log], detached: true, env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  let out = '';
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the lab did not become ready in 480 s (a fresh clone builds the console first):\n${out.slice(-3000)}`)), 480_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      writeFileSync(LOG + '.out', out);
      const m = out.match(/^DIRECTOR_READY (.*)$/m);
      if (m) { clearTimeout(timer); resolve(JSON.parse(m[1]!) as Record<string, unknown>); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`npm start exited (status ${code}) before ready:\n${out.slice(-3000)}`)); });
  });
  const state = typeof ready.stateFile === 'string' ? JSON.parse(readFileSync(ready.stateFile, 'utf8')) as Record<string, unknown> : {};
  writeFileSync(LAB_INFO, JSON.stringify({ ...state, ...ready, pid: child.pid }, null, 2));
}
