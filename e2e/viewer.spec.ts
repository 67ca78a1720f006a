/**
 * The viewer role: every write control is shown, disabled, with the reason;
 * and the console does not let a viewer write by calling the API directly.
 *
 * Uses the read-only account that `npm start` creates and prints next to the
 * operator's, on the same console.
 */
import { labInfo } from './lab';
import { LoginPage, OverviewPage, ServicePage } from './pages/console';
import { DIRECTOR, expect, screen, servicePath, test } from './fixtures';

const REASON = /viewer\): changing rules needs the operator role/;

test('a viewer sees every write control disabled, with the reason, and cannot write through the API', async ({ browser }) => {
  const info = labInfo();
  const viewer = info.viewerSignIn;
  if (!viewer) throw new Error('npm start printed no viewer sign-in (state file has no viewerSignIn)');
  const baseURL = info.consoleUrl;
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await new LoginPage(page).signIn(viewer.username, viewer.password);

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
