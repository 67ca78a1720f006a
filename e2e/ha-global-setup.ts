/**
 * Starts the two-director lab the way a user does (`npm start -- --ha`) for
 * the HA panel's spec, and records it where e2e/lab.ts and the shared
 * teardown look (test-results/e2e-lab.json), marked `labMode: 'ha'`.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { e2eSignIns, LAB_INFO } from './global-setup';

const root = path.resolve(import.meta.dirname, '..');
const LOG = path.join(root, 'test-results', 'e2e-ha-lab.log');

export default async function haGlobalSetup(): Promise<void> {
  mkdirSync(path.dirname(LAB_INFO), { recursive: true });
  if (process.env.E2E_REUSE_LAB === '1') {
    // while writing the spec: use a running `npm start -- --ha` and leave it running (no pid: teardown keeps it)
    const state = JSON.parse(readFileSync(path.join(root, '.state', 'start.json'), 'utf8')) as Record<string, unknown>;
    if (typeof state.consoleUrl !== 'string') throw new Error('E2E_REUSE_LAB=1 needs a running npm start -- --ha with its console');
    writeFileSync(LAB_INFO, JSON.stringify({ ...state, ...e2eSignIns(true).info, labMode: 'ha', pid: undefined }, null, 2), { mode: 0o600 });
    chmodSync(LAB_INFO, 0o600);
    return;
  }
  const signIns = e2eSignIns(false);
  const log = openSync(LOG, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/lab/start.ts', '--ha', '--port', '3211'], {
    cwd: root, stdio: ['ignore', 'pipe', log], detached: true, env: { ...process.env, ...signIns.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  let out = '';
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the HA lab did not become ready in 480 s:\n${out.slice(-3000)}`)), 480_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      writeFileSync(`${LOG}.out`, out);
      const m = out.match(/^DIRECTOR_READY (.*)$/m);
      if (m) { clearTimeout(timer); resolve(JSON.parse(m[1]!) as Record<string, unknown>); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`npm start -- --ha exited (status ${code}) before ready:\n${out.slice(-3000)}`)); });
  });
  const state = typeof ready.stateFile === 'string' ? JSON.parse(readFileSync(ready.stateFile, 'utf8')) as Record<string, unknown> : {};
  writeFileSync(LAB_INFO, JSON.stringify({ ...state, ...ready, ...signIns.info, labMode: 'ha', pid: child.pid }, null, 2), { mode: 0o600 });
  chmodSync(LAB_INFO, 0o600);
}
