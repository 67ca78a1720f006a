import { describe, expect, it } from 'vitest';
import { vrrpPreview } from './vrrp-preview';

const CONF = `
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        192.168.150.100/24 dev eth0
    }
}
virtual_server 192.168.150.100 80 {
    lb_algo wlc
    lb_kind DR
    real_server 192.168.150.12 80 { weight 1 }
}
`;

describe('vrrp_instance preview', () => {
  it('reads a vrrp_instance as the VIP group Director would run', () => {
    const [p] = vrrpPreview(CONF);
    expect(p).toMatchObject({
      instance: 'VI_1', line: 2, issues: [],
      group: { name: 'g1', vips: ['192.168.150.100/24'], interface: 'eth0', virtualRouterId: 51, priority: 150, advertIntervalMs: 1000, preempt: true },
    });
    expect(p!.notes.join(' ')).toMatch(/authentication is not used/);
    expect(p!.notes.join(' ')).toMatch(/takes the VIPs back/);
  });

  it('names what the agent would refuse', () => {
    const [p] = vrrpPreview('vrrp_instance web { interface eth0\n virtual_router_id 300\n nopreempt\n }\n');
    expect(p!.group.preempt).toBe(false);
    expect(p!.issues.some((i) => i.startsWith('vips:'))).toBe(true);
    expect(p!.issues.some((i) => i.startsWith('virtualRouterId:'))).toBe(true);
  });

  it('has nothing to show for a file without VRRP', () => {
    expect(vrrpPreview('virtual_server 10.0.0.1 80 { lb_algo rr }\n')).toEqual([]);
  });
});
