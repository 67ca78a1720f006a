import { describe, expect, it } from 'vitest';
import { haConfigSchema } from '../schemas/ha';
import { checkVrrpConfig, formatVrrpConfig, parseNotifyLine, vrrpPaths } from './vrrp-conf';
import { leaseDataSchema, readJson, writeJson, zkPaths } from './zk-layout';

const lab = haConfigSchema.parse({
  director: 'lvs1',
  zookeeper: '192.168.150.250:2181',
  groups: [{
    name: 'lan', vips: ['192.168.150.100/32', '192.168.150.1'], interface: 'eth0', heartbeatInterface: 'hb0',
    unicastSourceIp: '10.150.1.1', unicastPeers: ['10.150.1.2'], virtualRouterId: 51, priority: 150, advertIntervalMs: 500,
  }],
});

describe('formatVrrpConfig', () => {
  it('renders the lab group (golden)', () => {
    expect(formatVrrpConfig(lab, '/run/director-lab/lvs1/ha/')).toBe(`# written by the Director agent for lvs1; changes here are overwritten
global_defs {
  router_id lvs1
  vrrp_version 3
  vrrp_garp_master_refresh 2
  notify_fifo /run/director-lab/lvs1/ha/notify.fifo
}

track_file fence_lan {
  file /run/director-lab/lvs1/ha/fence-lan
  weight 0
  init_file 1
}
track_file lease_lan {
  file /run/director-lab/lvs1/ha/lease-lan
  weight 100
  init_file 0
}

vrrp_instance VI_lan {
  state BACKUP
  interface hb0
  unicast_src_ip 10.150.1.1
  unicast_peer {
    10.150.1.2
  }
  virtual_router_id 51
  priority 150
  advert_int 0.5
  nopreempt
  virtual_ipaddress {
    192.168.150.100/32 dev eth0
    192.168.150.1/32 dev eth0
  }
  track_file {
    fence_lan
    lease_lan
  }
}
`);
  });

  it('preempt drops nopreempt; multicast on the LAN when no heartbeat interface or peers are given; two groups', () => {
    const cfg = haConfigSchema.parse({
      director: 'd2', zookeeper: 'z:2181',
      groups: [
        { name: 'web', vips: ['10.0.0.10/24'], interface: 'eth1', virtualRouterId: 7, priority: 90, preempt: true, advertIntervalMs: 1000 },
        { name: 'dns', vips: ['10.0.0.53'], interface: 'eth1', virtualRouterId: 8, priority: 80, advertIntervalMs: 250 },
      ],
    });
    const text = formatVrrpConfig(cfg, '/run/ha');
    const web = text.slice(text.indexOf('vrrp_instance VI_web'), text.indexOf('vrrp_instance VI_dns'));
    expect(web).toContain('  interface eth1\n');
    expect(web).not.toContain('nopreempt');
    expect(web).not.toContain('unicast');
    expect(web).toContain('  advert_int 1\n');
    expect(web).toContain('    10.0.0.10/24 dev eth1\n');
    const dns = text.slice(text.indexOf('vrrp_instance VI_dns'));
    expect(dns).toContain('  nopreempt\n');
    expect(dns).toContain('  advert_int 0.25\n');
    expect(text).toContain('track_file fence_dns {\n  file /run/ha/fence-dns\n');
    expect(text).toContain('track_file lease_web {\n  file /run/ha/lease-web\n');
  });
});

describe('checkVrrpConfig', () => {
  it('accepts the lab config', () => expect(checkVrrpConfig(lab)).toEqual([]));

  it('names each problem with its group', () => {
    const cfg = haConfigSchema.parse({
      director: 'x', zookeeper: 'z:1',
      groups: [
        { name: 'a', vips: ['10.0.0.300'], interface: 'e0', virtualRouterId: 5, priority: 200, advertIntervalMs: 505 },
        { name: 'a', vips: ['10.0.0.1/40'], interface: 'e0', virtualRouterId: 5, priority: 10, unicastPeers: ['1.2.3.4'] },
      ],
    });
    expect(checkVrrpConfig(cfg)).toEqual([
      'groups[0] (a): priority 200 + lease bonus 100 exceeds 254; use a priority of at most 154',
      'groups[0] (a): advertIntervalMs 505 is not a multiple of 10 ms (VRRPv3 counts centiseconds)',
      "groups[0] (a): VIP '10.0.0.300' is not an IPv4 address",
      "groups[1] (a): group name 'a' is used twice",
      "groups[1] (a): virtualRouterId 5 on e0 is already used by group 'a'",
      'groups[1] (a): unicastPeers need unicastSourceIp (this director\'s address on e0)',
      "groups[1] (a): VIP '10.0.0.1/40' has a prefix over 32",
    ]);
  });
});

describe('parseNotifyLine', () => {
  it('reads instance lines', () => {
    expect(parseNotifyLine('INSTANCE "VI_lan" MASTER 150\n')).toEqual({ kind: 'instance', instance: 'VI_lan', group: 'lan', state: 'MASTER', priority: 150 });
    expect(parseNotifyLine('INSTANCE "VI_lan" FAULT 0')).toMatchObject({ state: 'FAULT', priority: 0 });
    expect(parseNotifyLine('INSTANCE "other" BACKUP 100')).toMatchObject({ group: null, state: 'BACKUP' });
  });
  it('keeps other lines as they are and skips blank ones', () => {
    expect(parseNotifyLine('GROUP "G1" MASTER 0')).toEqual({ kind: 'other', line: 'GROUP "G1" MASTER 0' });
    expect(parseNotifyLine('   ')).toBeNull();
  });
  it('paths are under the run dir', () => {
    expect(vrrpPaths('/a/').notifyFifo).toBe('/a/notify.fifo');
  });
});

describe('zk layout', () => {
  it('paths under the root', () => {
    const p = zkPaths('/director');
    expect([p.lease('lan'), p.member('lan', 'lvs1'), p.table]).toEqual(['/director/groups/lan/lease', '/director/groups/lan/members/lvs1', '/director/table']);
  });
  it('JSON round trip, and null for foreign data', () => {
    const l = { director: 'lvs1', since: 5, priority: 150 };
    expect(readJson(leaseDataSchema, writeJson(l))).toEqual(l);
    expect(readJson(leaseDataSchema, new TextEncoder().encode('{"director":1}'))).toBeNull();
    expect(readJson(leaseDataSchema, new TextEncoder().encode('{'))).toBeNull();
    expect(readJson(leaseDataSchema, null)).toBeNull();
  });
});
