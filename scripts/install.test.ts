import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEBIAN_PACKAGES, PACKAGE_SETS, missingDebianPackages } from './install.mjs';

const debian = !spawnSync('dpkg-query', ['--version']).error;

describe('install', () => {
  it('says what each package it may install is for', () => {
    for (const p of Object.values(PACKAGE_SETS).flat()) expect(DEBIAN_PACKAGES[p], p).toMatch(/\w{3}/);
  });

  it.skipIf(!debian)('finds installed and missing Debian packages with one dpkg-query (skipped off Debian: no dpkg-query)', () => {
    expect(missingDebianPackages(['dpkg', 'director-no-such-package'])).toEqual(['director-no-such-package']);
  });
});
