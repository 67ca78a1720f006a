/**
 * Starts the lab the way a user does (`npm start -- --lab`), on its own
 * console port, and waits for its DIRECTOR_READY line. The details the specs
 * need (console URL, sign-in, agent URL and tokens) go to test-results/e2e-lab.json.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
export const LAB_INFO = path.join(root, 'test-results', 'e2e-lab.json');
const LOG = path.join(root, 'test-results', 'e2e-lab.log');

/**
 * The lab stores only password hashes and prints the passwords once; the specs choose
 * them instead and hand them to the lab through its environment (start.ts takes them
 * out of its environment before starting anything). Only this run's file (0600) keeps them.
 * With E2E_REUSE_LAB=1 give the passwords the running lab printed: E2E_PASSWORD,
 * E2E_VIEWER_PASSWORD, E2E_ADMIN_PASSWORD.
 */
export function e2eSignIns(reuse: boolean): { env: Record<string, string>; info: Record<string, { username: string; password: string }> } {
  const pick = (name: string) => {
    if (!reuse) return randomBytes(12).toString('base64url');
    const v = process.env[name];
    if (!v) throw new Error(`E2E_REUSE_LAB=1: set ${name} to the password the running lab printed (the lab stores only hashes)`);
    return v;
  };
  const operator = pick('E2E_PASSWORD');
  const viewer = reuse && !process.env.E2E_VIEWER_PASSWORD ? '' : pick('E2E_VIEWER_PASSWORD');
  const admin = reuse && !process.env.E2E_ADMIN_PASSWORD ? '' : pick('E2E_ADMIN_PASSWORD');
  return {
    env: { DIRECTOR_LAB_PASSWORD: operator, DIRECTOR_LAB_VIEWER_PASSWORD: viewer, DIRECTOR_LAB_ADMIN_PASSWORD: admin },
    info: {
      signIn: { username: 'operator', password: operator },
      ...(viewer ? { viewerSignIn: { username: 'viewer', password: viewer } } : {}),
      ...(admin ? { adminSignIn: { username: 'admin', password: admin } } : {}),
    },
  };
}

export default async function globalSetup(): Promise<void> {
  mkdirSync(path.dirname(LAB_INFO), { recursive: true });
  if (process.env.E2E_REUSE_LAB === '1') {
    // while writing specs: use a running `npm start -- --lab` and leave it running (no pid: teardown keeps it)
    const state = JSON.parse(readFileSync(path.join(root, '.state', 'start.json'), 'utf8')) as Record<string, unknown>;
    if (state.mode !== 'lab' || typeof state.consoleUrl !== 'string') throw new Error('E2E_REUSE_LAB=1 needs a running npm start -- --lab with its console');
    writeFileSync(LAB_INFO, JSON.stringify({ ...state, ...e2eSignIns(true).info, pid: undefined }, null, 2), { mode: 0o600 });
    chmodSync(LAB_INFO, 0o600);
    return;
  }
  const signIns = e2eSignIns(false);
  const log = openSync(LOG, 'w');
  // node --import tsx rather than the tsx CLI: its wrapper process cuts the start script's cleanup short on Ctrl-C
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/lab/start.ts', '--lab', '--port', '3210'], {
    cwd: root, stdio: ['ignore', 'pipe', log], detached: true, env: { ...process.env, ...signIns.env, NEXT_TELEMETRY_DISABLED: '1' },
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
  writeFileSync(LAB_INFO, JSON.stringify({ ...state, ...ready, ...signIns.info, pid: child.pid }, null, 2), { mode: 0o600 });
  chmodSync(LAB_INFO, 0o600);
}
