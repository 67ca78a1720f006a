/**
 * Console users, end to end: an admin adds a user on the Users page; that user
 * signs in and watches a director live; the admin removes them and their open
 * page loses its socket and lands on the sign-in page, their cookie refused.
 *
 * Uses the admin account that `npm start` creates (its password chosen by global-setup).
 */
import { labInfo } from './lab';
import { LoginPage, Shell } from './pages/console';
import { DIRECTOR, expect, screen, test } from './fixtures';

test('an admin adds a user, who signs in; removing them closes their live page within seconds', async ({ browser }) => {
  const info = labInfo();
  const admin = info.adminSignIn;
  if (!admin) throw new Error('no admin sign-in in the lab info (global-setup passes DIRECTOR_LAB_ADMIN_PASSWORD)');
  const adminCtx = await browser.newContext({ baseURL: info.consoleUrl });
  const page = await adminCtx.newPage();
  await new LoginPage(page).signIn(admin.username, admin.password);
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();

  const form = page.getByRole('form', { name: 'Add a user' });
  await form.getByLabel('Name').fill('e2e-temp');
  await form.getByLabel('Role').selectOption('operator');
  await form.getByLabel('Password').fill('e2e temporary pw');
  await form.getByRole('button', { name: 'Add user' }).click();
  const row = page.getByRole('row').filter({ hasText: 'e2e-temp' });
  await expect(row).toBeVisible();
  await expect(row.getByLabel('Role of e2e-temp')).toHaveValue('operator');
  await screen(page, 'users-added');

  // a bad password is refused with the reason, nothing added
  await form.getByLabel('Name').fill('e2e-short');
  await form.getByLabel('Password').fill('short');
  await form.getByLabel('Password').evaluate((el: HTMLInputElement) => { el.minLength = 0; });
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'at least 10 characters' })).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: 'e2e-short' })).toHaveCount(0);

  const userCtx = await browser.newContext({ baseURL: info.consoleUrl });
  const userPage = await userCtx.newPage();
  await new LoginPage(userPage).signIn('e2e-temp', 'e2e temporary pw');
  await userPage.goto(DIRECTOR);
  await expect(new Shell(userPage).live()).toHaveText(/Live/);
  expect((await userCtx.request.get('/api/me')).status()).toBe(200);

  // a new password ends the user's session (cookie refused), and the new one works
  await row.getByRole('button', { name: 'Set password' }).click();
  const pwDialog = page.getByRole('dialog', { name: 'New password for e2e-temp' });
  await pwDialog.getByLabel('Password').fill('e2e second password');
  await pwDialog.getByRole('button', { name: 'Set password' }).click();
  await expect(pwDialog).toBeHidden();
  await userPage.waitForURL((u) => u.pathname.startsWith('/login'), { timeout: 5_000 });
  await new LoginPage(userPage).signIn('e2e-temp', 'e2e second password');
  await userPage.goto(DIRECTOR);
  await expect(new Shell(userPage).live()).toHaveText(/Live/);

  await row.getByRole('button', { name: 'Remove' }).click();
  const t0 = Date.now();
  await page.getByRole('dialog', { name: 'Remove e2e-temp?' }).getByRole('button', { name: 'Remove user' }).click();
  await expect(page.getByRole('row').filter({ hasText: 'e2e-temp' })).toHaveCount(0);
  await userPage.waitForURL((u) => u.pathname.startsWith('/login'), { timeout: 5_000 });
  const ms = Date.now() - t0;
  console.log(`removed user's live page on the sign-in page after ${ms} ms`);
  expect((await userCtx.request.get('/api/me')).status()).toBe(401);
  await screen(page, 'users-removed');
  await userCtx.close();
  await adminCtx.close();
});
