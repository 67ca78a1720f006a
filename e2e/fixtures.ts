/**
 * Shared pieces of the specs: sign-in as the lab's operator, the console's
 * base URL, and a screenshot of every page the specs visit.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { test as base, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { LoginPage } from './pages/console';
import { labInfo, SCREENS } from './lab';

export { expect };

/** Route of the lab's director in the console (start.ts names it "lab"). */
export const DIRECTOR = '/d/lab';
export const servicePath = (protocol: 'tcp' | 'udp', address: string, port: number) =>
  `${DIRECTOR}/s/${encodeURIComponent(`${protocol}:${address}:${port}`)}`;

type StorageState = Awaited<ReturnType<BrowserContext['storageState']>>;
let operatorState: StorageState | null = null;

/** A new context signed in as the lab's operator; the sign-in form is used once, later contexts reuse its cookie. */
export async function signedInPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ baseURL: labInfo().consoleUrl, ...(operatorState ? { storageState: operatorState } : {}) });
  const page = await context.newPage();
  if (!operatorState) {
    const user = labInfo().signIn;
    await new LoginPage(page).signIn(user.username, user.password);
    operatorState = await context.storageState();
  }
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
