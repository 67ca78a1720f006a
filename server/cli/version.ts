/**
 * Director's version: set at bundle time (scripts/build-cli.mjs defines
 * DIRECTOR_BUILD_VERSION), else read from the checkout's package.json.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

declare const DIRECTOR_BUILD_VERSION: string | undefined;

function fromCheckout(): string {
  try {
    const pkg = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../package.json');
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export const VERSION: string = typeof DIRECTOR_BUILD_VERSION === 'string' ? DIRECTOR_BUILD_VERSION : fromCheckout();
