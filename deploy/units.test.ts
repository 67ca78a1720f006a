/**
 * The shipped units, from the checkout (deploy/package.test.ts checks them again inside the built
 * package): systemd-analyze verify passes, and the check runner's unit holds nothing a script could
 * use, while the agent's reaches it at the socket agent.toml names.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAgentConfig } from '../server/cli/agent-config';

const read = (f: string) => readFileSync(path.join(import.meta.dirname, f), 'utf8');
const UNITS = ['director-agent.service', 'director-checks.service', 'director-console.service'];

describe('the systemd units', () => {
  it.skipIf(!existsSync('/usr/bin/systemd-analyze'))('pass systemd-analyze verify (needs systemd-analyze)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'units-'));
    try {
      // ExecStart must name an existing executable: the checkout's launcher stands in for /usr/bin/director
      for (const u of UNITS) writeFileSync(path.join(dir, u), read(u).replaceAll('/usr/bin/director', path.resolve(import.meta.dirname, '../bin/director.mjs')));
      const r = spawnSync('systemd-analyze', ['verify', ...UNITS.map((u) => path.join(dir, u))], {
        encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', SYSTEMD_LOG_LEVEL: 'notice' } as unknown as NodeJS.ProcessEnv,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the check runner: its own user, no capability, the state folders hidden; the agent starts after it and uses its socket', () => {
    const checks = read('director-checks.service');
    expect(checks).toMatch(/^User=director-check$/m);
    expect(checks).toMatch(/^CapabilityBoundingSet=$/m);
    expect(checks).toMatch(/^AmbientCapabilities=$/m);
    expect(checks).toMatch(/^NoNewPrivileges=yes$/m);
    expect(checks).toMatch(/^InaccessiblePaths=-\/var\/lib\/director -\/var\/lib\/director-console /m);
    expect(checks).toMatch(/^RuntimeDirectory=director-checks$/m);
    const socket = /--socket (\S+)/.exec(checks)?.[1];
    expect(socket).toBe('/run/director-checks/checks.sock');
    expect(parseAgentConfig('agent.toml', read('agent.toml')).checkRunner).toBe(socket);
    const agent = read('director-agent.service');
    expect(agent).toMatch(/^After=.*\bdirector-checks\.service\b/m);
    expect(agent).toMatch(/^Wants=.*\bdirector-checks\.service\b/m);
    // the agent's user reaches the socket through the runner's group, never the runner through the agent's
    expect(read('setup-host.sh')).toMatch(/usermod -a -G director-check director/);
  });
});
