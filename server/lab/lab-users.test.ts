import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { authenticate, UserStore } from '../../console/users';
import { writeLabUsers } from './lab-users';

describe('the lab\'s generated sign-ins', () => {
  it('writes only scrypt hashes (mode 0600) that the console accepts', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'lab-users-')), 'users.json');
    const signIns = await writeLabUsers(file, {});
    expect(signIns.map((s) => [s.username, s.role])).toEqual([['operator', 'operator'], ['viewer', 'viewer'], ['admin', 'admin']]);
    const text = readFileSync(file, 'utf8');
    for (const s of signIns) {
      expect(s.password.length).toBeGreaterThanOrEqual(16);
      expect(text).not.toContain(s.password);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const store = new UserStore(file);
    store.reload();
    for (const s of signIns) expect(await authenticate(store.list(), s.username, s.password)).toEqual({ name: s.username, role: s.role });
  });

  it('uses the passwords a caller gives (e2e), still storing only hashes', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'lab-users-')), 'users.json');
    const signIns = await writeLabUsers(file, { DIRECTOR_LAB_PASSWORD: 'e2e operator pw', DIRECTOR_LAB_VIEWER_PASSWORD: 'e2e viewer pw' });
    expect(signIns[0]!.password).toBe('e2e operator pw');
    expect(signIns[1]!.password).toBe('e2e viewer pw');
    expect(readFileSync(file, 'utf8')).not.toMatch(/e2e (operator|viewer) pw/);
  });
});
