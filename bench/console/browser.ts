/**
 * Debian's Chromium for the console measures (section.ts, probe.ts), without the browser's own pages.
 *
 * Each new window (one per cold load's browser context) preloads the omnibox popup's WebUI pages
 * (chrome://omnibox-popup.top-chrome/): a renderer of its own that evaluates a few hundred ms of script
 * while the measured page loads. On this 2-core host it took a core from whichever page loaded then, the
 * sign-in page or a measured one (traces: the measured page's framework evaluation 56 ms without it,
 * 180-200 ms with it). Those features are switched off here.
 *
 * Chromium keeps only the last --disable-features, and Playwright passes its own (some keep the browser
 * from calling out to search engines): the browser is started once to read Playwright's list from its
 * command line, then again with that list plus ours in its place.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const EXECUTABLE = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** The omnibox popup's WebUI pages and their preloading. */
export const BROWSER_UI_FEATURES = ['PreloadTopChromeWebUI', 'WebUIOmniboxPopup', 'WebUIOmniboxAimPopup'];

/** The command line of the Chromium this process started last (its browser process is our child). */
function childChromiumArgs(): string[] {
  const kids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim().split(/\s+/);
  const lines = kids.flatMap((pid) => {
    try {
      return [readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')];
    } catch {
      return []; // gone (ps itself)
    }
  });
  const mine = lines.filter((a) => a[0] === EXECUTABLE || a[0]?.endsWith('/chromium')).at(-1);
  if (!mine) throw new Error('bench/console/browser.ts: the Chromium just started is not among this process\'s children');
  return mine;
}

/** `--disable-features=A,B` plus `extra`, as one switch. */
export function withFeaturesOff(disableSwitch: string | undefined, extra: readonly string[]): string {
  const have = disableSwitch ? disableSwitch.slice('--disable-features='.length).split(',').filter(Boolean) : [];
  return `--disable-features=${[...have, ...extra.filter((f) => !have.includes(f))].join(',')}`;
}

export async function launchBenchBrowser(): Promise<Browser> {
  const first = await chromium.launch({ executablePath: EXECUTABLE, args: ARGS });
  let theirs: string | undefined;
  try {
    theirs = childChromiumArgs().find((a) => a.startsWith('--disable-features='));
  } finally {
    await first.close();
  }
  return chromium.launch({
    executablePath: EXECUTABLE,
    args: [...ARGS, withFeaturesOff(theirs, BROWSER_UI_FEATURES)],
    ...(theirs ? { ignoreDefaultArgs: [theirs] } : {}),
  });
}
