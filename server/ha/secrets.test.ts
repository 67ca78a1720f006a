import { chmod, chown, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { haConfigSchema } from '@/lib/schemas/ha';
import { digestId, loadHaSecrets, parseCredentials, readSecretFile } from './secrets';

const group = { name: 'lan', vips: ['192.168.150.100/32'], interface: 'eth0', virtualRouterId: 51, priority: 150 };
const config = (o: object = {}) => haConfigSchema.parse({ director: 'lvs1', zookeeper: 'z:2181', groups: [group], ...o });

async function stateDir(files: Record<string, { text: string; mode?: number }>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ha-secrets-'));
  for (const [name, f] of Object.entries(files)) {
    await writeFile(path.join(dir, name), f.text, { mode: f.mode ?? 0o600 });
    await chmod(path.join(dir, name), f.mode ?? 0o600);
  }
  return dir;
}
const GOOD = { 'zk-credentials': { text: 'director:0123456789abcdefghij\n' }, 'ha-table.key': { text: `${'k'.repeat(44)}\n` } };

describe('HA secrets', () => {
  it('loads both files from the state folder (paths relative to it)', async () => {
    const dir = await stateDir(GOOD);
    const s = await loadHaSecrets(config(), dir);
    expect(s.zk).toEqual({ user: 'director', password: '0123456789abcdefghij' });
    expect(s.tableKey.toString()).toBe('k'.repeat(44));
    await writeFile(path.join(dir, 'other.key'), 'x'.repeat(40), { mode: 0o600 });
    expect((await loadHaSecrets(config({ tableKeyFile: 'other.key' }), dir)).tableKey.toString()).toBe('x'.repeat(40));
  });

  it('refuses a file others can read, naming the file and the fix', async () => {
    const dir = await stateDir({ ...GOOD, 'ha-table.key': { text: 'k'.repeat(44), mode: 0o644 } });
    await expect(loadHaSecrets(config(), dir)).rejects.toThrow(`table key ${dir}/ha-table.key has mode 0644: group and others must have no access (chmod 600 ${dir}/ha-table.key)`);
    const dir2 = await stateDir({ ...GOOD, 'zk-credentials': { text: GOOD['zk-credentials'].text, mode: 0o640 } });
    await expect(loadHaSecrets(config(), dir2)).rejects.toThrow(/ZooKeeper credentials .*zk-credentials has mode 0640/);
  });

  it('refuses a missing file with how to make one, a symbolic link, and a file of another user', async () => {
    const dir = await stateDir({ 'zk-credentials': GOOD['zk-credentials'] });
    await expect(loadHaSecrets(config(), dir)).rejects.toThrow(/table key .*ha-table.key is missing: create it .*head -c 32 \/dev\/urandom/);
    const dir2 = await stateDir({ 'real.key': GOOD['ha-table.key'], 'zk-credentials': GOOD['zk-credentials'] });
    await symlink(path.join(dir2, 'real.key'), path.join(dir2, 'ha-table.key'));
    await expect(loadHaSecrets(config(), dir2)).rejects.toThrow(/is a symbolic link/);
    if (process.getuid?.() !== 0) return; // chown to another user needs root; the check itself is the same code path
    const dir3 = await stateDir(GOOD);
    await chown(path.join(dir3, 'ha-table.key'), 65534, 65534);
    await expect(readSecretFile(path.join(dir3, 'ha-table.key'), 'table key')).rejects.toThrow(/owned by uid 65534, not by the agent's user \(uid 0\)/);
  });

  it('checks what the files hold', async () => {
    expect(() => parseCredentials('director', 'f')).toThrow(/expected one line `user:password`/);
    expect(() => parseCredentials('director:short', 'f')).toThrow(/at least 16/);
    const dir = await stateDir({ ...GOOD, 'ha-table.key': { text: 'too short' } });
    await expect(loadHaSecrets(config(), dir)).rejects.toThrow(/table key .*: expected one line without spaces/);
  });

  it('the digest id is ZooKeeper\'s user:base64(sha1(user:password))', () => {
    // from ZooKeeper 3.8 itself: java -cp zookeeper.jar org.apache.zookeeper.server.auth.DigestAuthenticationProvider super:superpw
    expect(digestId({ user: 'super', password: 'superpw' })).toBe('super:g9oN2HttPfn8MMWJZ2r45Np/LIA=');
  });
});

describe('HA config: defaults', () => {
  it('names the secret files and the hold share by default', () => {
    expect(config()).toMatchObject({ zkCredentialsFile: 'zk-credentials', tableKeyFile: 'ha-table.key', holdRemovalShare: 0.5 });
  });
});
