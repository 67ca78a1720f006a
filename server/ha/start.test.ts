import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadHaConfig } from './start';

async function file(content: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ha-cfg-'));
  const f = path.join(dir, 'ha.json');
  await writeFile(f, content);
  return f;
}
const group = { name: 'lan', vips: ['192.168.150.100/32'], interface: 'eth0', virtualRouterId: 51, priority: 150 };

describe('loadHaConfig', () => {
  it('fills defaults and takes the director from --director-id when the file has none', async () => {
    const cfg = await loadHaConfig(await file(JSON.stringify({ zookeeper: 'z:2181', groups: [group] })), 'lvs1');
    expect(cfg).toMatchObject({ director: 'lvs1', sessionTimeoutMs: 2000, zkRoot: '/director', peers: [], keepalivedPath: '/usr/sbin/keepalived' });
    expect(cfg.groups[0]).toMatchObject({ preempt: false, advertIntervalMs: 1000, unicastPeers: [] });
  });
  it('names the file and the field of each problem', async () => {
    await expect(loadHaConfig(await file('{'), 'lvs1')).rejects.toThrow(/ha\.json: .*JSON/);
    await expect(loadHaConfig(await file(JSON.stringify({ zookeeper: 'z:1', groups: [{ ...group, vips: [] }] })), 'lvs1'))
      .rejects.toThrow(/groups\.0\.vips: a VIP group needs at least one address/);
    await expect(loadHaConfig(await file(JSON.stringify({ director: 'lvs2', zookeeper: 'z:1', groups: [group] })), 'lvs1'))
      .rejects.toThrow("director 'lvs2' differs from --director-id 'lvs1'");
    await expect(loadHaConfig(await file(JSON.stringify({ director: 'lvs1', zookeeper: 'z:1', groups: [{ ...group, priority: 200 }] }))))
      .rejects.toThrow(/priority 200 \+ lease bonus 100 exceeds 254/);
  });
});
