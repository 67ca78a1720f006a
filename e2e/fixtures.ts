/**
 * Shared pieces of the specs: sign-in as the lab's operator, the console's
 * base URL, and a screenshot of every page the specs visit.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { test as base, expect, type Browser, type Page } from '@playwright/test';
import { LoginPage } from './pages/console';
import { labInfo, SCREENS } from './lab';

export { expect };

/** Route of the lab's director in the console (start.ts names it "lab"). */
export const DIRECTOR = '/d/lab';
export const servicePath = (protocol: 'tcp' | 'udp', address: string, port: number) =>
  `${DIRECTOR}/s/${encodeURIComponent(`${protocol}:${address}:${port}`)}`;

export async function signedInPage(browser: Browser, user = labInfo().signIn): Promise<Page> {
  const context = await browser.newContext({ baseURL: labInfo().consoleUrl });
  const page = await context.newPage();
  await new LoginPage(page).signIn(user.username, user.password);
  return page;
}

/** A full-page screenshot kept as a test artifact under test-results/e2e/screens/. */
export async function screen(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENS, `${name}.png`), fullPage: true });
}

export const test = base.extend<{ operator: Page }>({
  baseURL: async ({}, use) => use(labInfo().consoleUrl),
  operator: async ({ browser }, use) => {
    const page = await signedInPage(browser);
    await use(page);
    await page.context().close();
  },
});
