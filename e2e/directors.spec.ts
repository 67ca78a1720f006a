/**
 * The Directors page, end to end: an admin enrolls a director from the code
 * `director agent enroll` makes, watches its table through the console
 * (pinned TLS), renames it and removes it, which revokes the console's
 * credential on that agent.
 *
 * The director here is an agent started by this spec on 127.0.0.1 with TLS
 * (its certificate from the small CA) over the in-memory fake kernel: the lab's
 * own agent speaks plain HTTP on its tap, and this test is about enrollment and
 * TLS, not IPVS (server/lab/enroll.lab-test.ts does the same against the lab kernel).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Auth } from '../server/api/auth';
import { Credentials } from '../server/api/credentials';
import { createEnrollment, Enrollment } from '../server/api/enroll';
import { startAgentServer, type AgentServer } from '../server/api/server';
import { makeDeps, silentLog } from '../server/api/testing';
import { initCa, issueAgentCert } from '../server/pki/pki';
import { labInfo } from './lab';
import { LoginPage } from './pages/console';
import { expect, screen, test } from './fixtures';

let dir = '';
let srv: AgentServer;
let deps: Awaited<ReturnType<typeof makeDeps>>;
let credentials: Credentials;
let fingerprint = '';

test.beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'director-e2e-enroll-'));
  await initCa({ dir: path.join(dir, 'pki') });
  const leaf = await issueAgentCert({ caDir: path.join(dir, 'pki'), name: 'e2e-tls', ips: ['127.0.0.1'], outDir: path.join(dir, 'tls') });
  fingerprint = leaf.fingerprint;
  deps = await makeDeps({ tickMs: 200 });
  deps.hub.start();
  credentials = await Credentials.open(path.join(dir, 'agent'));
  srv = await startAgentServer({
    deps, auth: Auth.fromTokens({ viewer: `viewer_${'v'.repeat(43)}`, operator: `operator_${'o'.repeat(43)}` }, silentLog, { credentials }),
    listen: { host: '127.0.0.1', port: 0 }, tls: { cert: await readFile(leaf.cert), key: await readFile(leaf.key) }, allowOrigins: [],
    enroll: new Enrollment({ stateDir: path.join(dir, 'agent'), credentials, log: silentLog, directorId: 'e2e-tls' }),
  });
  await deps.fake.addService({ key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.0.2.55', port: 8443 }, scheduler: 'wlc', flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0, netmask: '255.255.255.255', pe: null });
});

test.afterAll(async () => {
  await srv?.close();
  deps?.hub.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('an admin enrolls a director from its code, sees it live over pinned TLS, renames and removes it', async ({ browser }) => {
  const info = labInfo();
  const admin = info.adminSignIn;
  if (!admin) throw new Error('no admin sign-in in the lab info (global-setup passes DIRECTOR_LAB_ADMIN_PASSWORD)');
  const ctx = await browser.newContext({ baseURL: info.consoleUrl });
  const page = await ctx.newPage();
  await new LoginPage(page).signIn(admin.username, admin.password);
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Directors' }).click();
  await expect(page.getByRole('heading', { name: 'Directors', exact: true })).toBeVisible();

  // the lab's director comes from the configuration: listed, not removable here, and the page says why
  const labRow = page.getByRole('row').filter({ hasText: 'configuration file' });
  await expect(labRow).toHaveCount(1);
  await expect(labRow.getByRole('button', { name: 'Remove' })).toBeDisabled();

  // a damaged code: refused beside the field, nothing added
  await page.getByLabel('Enrollment code').fill('not-a-code');
  await page.getByRole('button', { name: 'Enroll' }).click();
  await expect(page.getByRole('alert').filter({ hasText: "starts with 'director-enroll-'" })).toBeVisible();

  const { code } = await createEnrollment({ stateDir: path.join(dir, 'agent'), url: srv.url, fingerprint });
  await page.getByLabel('Enrollment code').fill(code);
  await page.getByLabel('Name (optional)').fill('e2e-tls');
  await page.getByRole('button', { name: 'Enroll' }).click();
  await expect(page.getByRole('status')).toHaveText(`Enrolled e2e-tls at ${srv.url}.`);
  const row = page.getByRole('row').filter({ hasText: srv.url });
  await expect(row).toContainText(fingerprint);
  await screen(page, 'directors-enrolled');
  expect(credentials.list()).toHaveLength(1);

  // the same code again: the agent refuses it, and the page says so
  await page.getByLabel('Enrollment code').fill(code);
  await page.getByRole('button', { name: 'Enroll' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'unknown or was already used' })).toBeVisible();

  // the new director's table, through the console's pinned TLS link
  await page.goto('/d/e2e-tls');
  await expect(page.getByText('192.0.2.55').first()).toBeVisible();

  await page.goto('/directors');
  await row.getByRole('button', { name: 'Rename' }).click();
  await row.getByLabel('New name').fill('edge e2e');
  await row.getByRole('button', { name: 'Save' }).click();
  await expect(row).toContainText('edge e2e');

  await row.getByRole('button', { name: 'Remove' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByRole('row').filter({ hasText: srv.url })).toHaveCount(0);
  expect(credentials.list()).toHaveLength(0);
  await screen(page, 'directors-removed');
  await ctx.close();
});
