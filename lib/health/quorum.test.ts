import { describe, expect, it } from 'vitest';
import { keepFailingServer, releaseKeptServers } from './quorum';

describe('health quorum', () => {
  it('is off at 0: every failing server goes out, as keepalived does', () => {
    expect(keepFailingServer({ minInService: 0, hysteresis: 0 }, 0)).toBe(false);
  });

  it('keeps a failing server in while fewer than the minimum others pass', () => {
    const rule = { minInService: 2, hysteresis: 0 };
    expect(keepFailingServer(rule, 3)).toBe(false);
    expect(keepFailingServer(rule, 2)).toBe(false);
    expect(keepFailingServer(rule, 1)).toBe(true);
    expect(keepFailingServer(rule, 0)).toBe(true);
  });

  it('releases kept servers only once the minimum plus the hysteresis pass', () => {
    const rule = { minInService: 1, hysteresis: 1 };
    expect(releaseKeptServers(rule, 0)).toBe(false);
    expect(releaseKeptServers(rule, 1)).toBe(false);
    expect(releaseKeptServers(rule, 2)).toBe(true);
    expect(releaseKeptServers({ minInService: 1, hysteresis: 0 }, 1)).toBe(true);
  });
});
