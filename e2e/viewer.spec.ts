/**
 * The viewer role: every write control is shown, disabled, with the reason;
 * and the console does not let a viewer write by calling the API directly.
 *
 * `npm start` creates only an operator account, so this spec runs a second
 * console (unprivileged, like npm start runs it) on 127.0.0.1 with a viewer
 * account, managing the same lab agent over the tap link.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { labInfo, until } from './lab';
import { LoginPage, OverviewPage, ServicePage } from './pages/console';
import { DIRECTOR, expect, screen, servicePath, test } from './fixtures';

const root = path.resolve(import.meta.dirname, '..');
const VIEWER = { username: 'viewer', password: 'viewer-e2e-password' };
const REASON = /viewer\): changing rules needs the operator role/;

let consoleProc: ChildProcess | null = null;
let scratch = '';
let baseURL = '';

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test.beforeAll(async () => {
  const info = labInfo();
  const port = await freePort();
  baseURL = `http://127.0.0.1:${port}`;
  scratch = mkdtempSync(path.join(tmpdir(), 'director-e2e-viewer-'));
  const asNobody = process.getuid?.() === 0;
  if (asNobody) chownSync(scratch, 65534, 65534);
  let log = '';
  consoleProc = spawn(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(root, 'console/server.ts')], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asNobody ? { uid: 65534, gid: 65534 } : {}),
    env: {
      ...process.env, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', TMPDIR: scratch, HOME: scratch, NEXT_TELEMETRY_DISABLED: '1',
      DIRECTOR_AGENTS: JSON.stringify([{ id: 'lab', name: 'Lab director', url: info.agentUrl, viewerToken: info.viewerToken, operatorToken: info.operatorToken }]),
      DIRECTOR_CONSOLE_USERS: JSON.stringify([{ ...VIEWER, role: 'viewer' }]),
    },
  });
  consoleProc.stdout!.on('data', (b: Buffer) => { log += b.toString(); });
  consoleProc.stderr!.on('data', (b: Buffer) => { log += b.toString(); });
  await until(`the viewer console to listen (log: ${log.slice(-500)})`, async () => {
    if (consoleProc!.exitCode !== null) throw new Error(`the viewer console exited:\n${log}`);
    return log.includes('director console: http://');
  }, 90_000, 250);
});

test.afterAll(async () => {
  if (consoleProc && consoleProc.exitCode === null) {
    const exited = new Promise((r) => consoleProc!.once('exit', r));
    consoleProc.kill('SIGTERM');
    await exited;
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('a viewer sees every write control disabled, with the reason, and cannot write through the API', async ({ browser }) => {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await new LoginPage(page).signIn(VIEWER.username, VIEWER.password);

  await page.goto(DIRECTOR);
  const overview = new OverviewPage(page);
  await expect(overview.row('192.168.150.100:80')).toBeVisible();
  await expect(overview.addService()).toBeDisabled();
  await expect(overview.addService()).toHaveAccessibleDescription(REASON);
  await screen(page, 'viewer-overview');

  await page.goto(servicePath('tcp', '192.168.150.100', 80));
  const svc = new ServicePage(page);
  for (const b of [page.getByRole('button', { name: 'Edit service' }), svc.deleteService(), svc.addRealServer()]) {
    await expect(b).toBeDisabled();
    await expect(b).toHaveAccessibleDescription(REASON);
  }
  const row = svc.realServerRow('192.168.150.12:80');
  for (const name of ['Edit', 'Drain', 'Remove']) await expect(row.getByRole('button', { name })).toBeDisabled();
  await expect(svc.scheduler()).toBeDisabled();
  await expect(page.getByText(REASON).first()).toBeVisible();
  await screen(page, 'viewer-service');

  await page.goto(`${DIRECTOR}/lab`);
  for (const name of ['Break', 'Repair', 'Set rate']) {
    await expect(page.getByRole('button', { name })).toBeDisabled();
    await expect(page.getByRole('button', { name })).toHaveAccessibleDescription(REASON);
  }
  await screen(page, 'viewer-lab');

  // the console sends the viewer token, so the agent itself refuses the write
  const r = await page.request.post(`/api/trpc/lab/services.create`, {
    headers: { 'content-type': 'application/json', origin: baseURL },
    data: { service: { key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 9393 }, scheduler: 'rr' }, destinations: [] },
  });
  expect(r.status()).toBe(403);
  expect(await r.text()).toMatch(/FORBIDDEN/);
  await context.close();
});
