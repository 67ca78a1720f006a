/**
 * Every page as an operator sees it, against the lab: screenshots at 1280 and
 * 1920 px, light and dark (test-results/e2e/screens/look-*.png, to look at),
 * and what can be checked without eyes: no sideways scrolling of the page,
 * and no layout shift while live ticks arrive.
 */
import { DIRECTOR, expect, screen, servicePath, signedInPage, test } from './fixtures';
import type { Page } from '@playwright/test';

const PAGES: Array<{ name: string; path: string; ready: (p: Page) => Promise<void> }> = [
  { name: 'overview', path: DIRECTOR, ready: (p) => expect(p.getByRole('link', { name: '192.168.150.100:80', exact: true })).toBeVisible() },
  { name: 'service', path: servicePath('tcp', '192.168.150.100', 80), ready: (p) => expect(p.locator('.uplot').first()).toBeVisible() },
  { name: 'connections', path: `${DIRECTOR}/connections`, ready: (p) => expect(p.getByRole('table', { name: 'Connection entries' })).toBeVisible() },
  { name: 'snapshots', path: `${DIRECTOR}/snapshots`, ready: (p) => expect(p.getByRole('heading', { name: 'Snapshots' })).toBeVisible() },
  { name: 'health', path: `${DIRECTOR}/health`, ready: (p) => expect(p.getByRole('heading', { name: 'Health checks' })).toBeVisible() },
  { name: 'lab', path: `${DIRECTOR}/lab`, ready: (p) => expect(p.getByRole('button', { name: 'Set rate' })).toBeVisible() },
];

for (const theme of ['light', 'dark'] as const) {
  test(`every page at 1280 and 1920 px, ${theme}: screenshots, no sideways scroll`, async ({ browser }) => {
    test.setTimeout(240_000);
    const page = await signedInPage(browser);
    await page.goto(DIRECTOR); // localStorage belongs to the console's origin, not to about:blank
    await page.evaluate((t) => localStorage.setItem('director-theme', t), theme);
    for (const width of [1280, 1920]) {
      await page.setViewportSize({ width, height: width === 1280 ? 800 : 1080 });
      for (const p of PAGES) {
        await page.goto(p.path);
        await p.ready(page);
        expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(theme === 'dark');
        await page.waitForTimeout(2500); // a couple of live ticks
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${p.name} at ${width} px scrolls sideways by ${overflow} px`).toBeLessThanOrEqual(0);
        if (p.name === 'service') {
          // each real server's row: its cells' contents stay inside their cells (the actions overlapped the counts at 1280 px)
          const spills = await page.getByRole('table', { name: 'Real servers' }).locator('tbody tr td').evaluateAll((cells) => cells.flatMap((td) => {
            const c = td.getBoundingClientRect();
            return [...td.querySelectorAll('button, .num')].filter((e) => {
              const r = e.getBoundingClientRect();
              return r.width > 0 && (r.left < c.left - 0.5 || r.right > c.right + 0.5);
            }).map((e) => e.textContent ?? '');
          }));
          expect(spills, `service at ${width} px: contents past their cell`).toEqual([]);
        }
        await screen(page, `look-${p.name}-${width}-${theme}`);
      }
    }
    await page.context().close();
  });
}

test('live ticks do not move the layout on the overview and the service page', async ({ operator: page }) => {
  for (const p of PAGES.slice(0, 2)) {
    await page.goto(p.path);
    await p.ready(page);
    await page.waitForTimeout(3000); // first data in, skeletons gone
    const shift = await page.evaluate(() => new Promise<number>((resolve) => {
      let sum = 0;
      new PerformanceObserver((l) => {
        for (const e of l.getEntries() as Array<PerformanceEntry & { value: number; hadRecentInput: boolean }>) if (!e.hadRecentInput) sum += e.value;
      }).observe({ type: 'layout-shift' });
      setTimeout(() => resolve(sum), 6000);
    }));
    // 0.1 is "good" CLS for a whole visit; ticks alone should move nothing
    expect(shift, `${p.name}: cumulative layout shift during 6 s of ticks`).toBeLessThan(0.01);
  }
});
