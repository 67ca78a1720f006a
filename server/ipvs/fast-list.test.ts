import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeIpvs } from './fake';
import { listStructure } from './fast-list';
import { dst, persistent, svc, tcp } from './kernel-test-helpers';

// The kernel side (output identical to ipvsadm -Ln on every option kind) is
// server/cli/list.kernel.test.ts; here: merging and the fall-back cases.
const HEAD = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
`;
let dir = '';
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });
function proc(text: string): string {
  dir = mkdtempSync(path.join(tmpdir(), 'fast-list-'));
  writeFileSync(path.join(dir, 'ip_vs'), HEAD + text);
  return dir;
}

describe('listStructure', () => {
  it('takes destinations and counts from /proc and service fields from netlink', async () => {
    const b = new FakeIpvs();
    await b.addService(svc(tcp('10.0.0.2', 443), { scheduler: 'sh', flags: { ...persistent, sched1: true }, timeout: 1500, netmask: '255.255.255.0' }));
    await b.addDestination(tcp('10.0.0.2', 443), dst('10.0.0.50', 443, { weight: 3 }));
    const t = await listStructure(b, proc('TCP  0A000002:01BB sh  persistent 150000 FFFFFF00\n  -> 0A000032:01BB      Route   3      7          9         \n'));
    expect(t!.services.count).toBe(1);
    expect(t!.specs[0]!.flags.sched1).toBe(true);
    expect(t!.specs[0]!.timeout).toBe(1500);
    expect(t!.destinations(0)).toEqual([expect.objectContaining({ address: '10.0.0.50', port: 443, forward: 'dr', weight: 3, activeConns: 7, inactiveConns: 9 })]);
  });

  it('gives up (null) when /proc and netlink disagree about the services', async () => {
    const b = new FakeIpvs();
    await b.addService(svc(tcp('10.0.0.1', 80), { scheduler: 'rr' }));
    expect(await listStructure(b, proc('TCP  0A000002:0050 rr  \n'))).toBeNull();
    expect(await listStructure(b, proc(''))).toBeNull();
    expect(await listStructure(b, proc('TCP  0A000001:0050 wlc \n'))).toBeNull();
  });

  it('matches services listed in another order than netlink dumps them', async () => {
    const b = new FakeIpvs();
    await b.addService(svc(tcp('10.0.0.1', 80), { scheduler: 'rr' }));
    await b.addService(svc(tcp('10.0.0.2', 80), { scheduler: 'wlc' }));
    const t = await listStructure(b, proc('TCP  0A000002:0050 wlc \nTCP  0A000001:0050 rr  \n  -> 0A000032:0050      Route   1      0          0         \n'));
    // found by key, so every service has its spec
    expect(t!.specs.map((s, i) => [s!.key.kind === 'addr' && s!.key.address, s!.scheduler, t!.destinations(i).length])).toEqual([['10.0.0.2', 'wlc', 0], ['10.0.0.1', 'rr', 1]]);
  });

  it('decodes only the services that say more than their /proc line', async () => {
    const b = new FakeIpvs();
    await b.addService(svc(tcp('10.0.0.1', 80), { scheduler: 'rr' }));
    await b.addService(svc(tcp('10.0.0.2', 80), { scheduler: 'rr', flags: { ...persistent }, timeout: 300 }));
    await b.addService(svc(tcp('10.0.0.3', 80), { scheduler: 'rr', timeout: 60 }));
    const t = await listStructure(b, proc('TCP  0A000001:0050 rr  \nTCP  0A000002:0050 rr  persistent 30000 FFFFFFFF\nTCP  0A000003:0050 rr  \n'));
    expect(t!.specs.map((s) => s?.timeout)).toEqual([undefined, 300, 60]);
  });
});
