import { describe, expect, it } from 'vitest';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceRules } from '../ipvs/model';
import { EMPTY_CONTEXT, healthKey, judgeChange, type VerdictContext } from './verdict';

const key = { kind: 'addr' as const, family: 'inet' as const, protocol: 'tcp' as const, address: '192.168.150.100', port: 80 };
const rs = (address: string, weight = 1, forward: DestinationSpec['forward'] = 'nat'): DestinationSpec => ({
  family: 'inet', address, port: 80, forward, weight, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL },
});
const svc = (over: Partial<ServiceRules> = {}): ServiceRules => ({
  key, scheduler: 'wlc', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null,
  destinations: [rs('192.168.150.11'), rs('192.168.150.12')], ...over,
});
const lab: VerdictContext = { ...EMPTY_CONTEXT, lans: [{ address: '192.168.150.1', prefix: 24 }, { address: '10.9.0.1', prefix: 24 }] };

const rules = (live: ServiceRules[], desired: ServiceRules[], ctx: VerdictContext = EMPTY_CONTEXT) =>
  judgeChange(live, desired, ctx).findings.map((f) => `${f.rule}/${f.severity}`);

describe('judgeChange', () => {
  it('finds nothing in a harmless change, and does not flag it', () => {
    const v = judgeChange([svc()], [svc({ destinations: [rs('192.168.150.11', 3), rs('192.168.150.12')] })], lab);
    expect(v).toEqual({ findings: [], flagged: false });
  });

  it('dr-subnet: a DR real server off the VIP\'s LAN, even on another LAN of the director', () => {
    const desired = svc({ destinations: [rs('192.168.150.11'), rs('10.9.0.5', 1, 'dr')] });
    const v = judgeChange([svc()], [desired], lab);
    expect(v.flagged).toBe(true);
    expect(v.findings[0]).toMatchObject({ rule: 'dr-subnet', severity: 'critical', subject: '10.9.0.5:80 in TCP 192.168.150.100:80' });
    expect(v.findings[0]!.title).toContain('192.168.150.1/24');
    // on the VIP's LAN: fine; LANs unknown: the rule stays silent
    expect(rules([svc()], [svc({ destinations: [rs('192.168.150.13', 1, 'dr')] })], lab)).not.toContain('dr-subnet/critical');
    expect(rules([svc()], [desired])).toEqual([]);
  });

  it('dr-subnet: an old DR server the change does not touch is not this change\'s finding', () => {
    const live = svc({ destinations: [rs('10.9.0.5', 1, 'dr')] });
    expect(rules([live], [svc({ scheduler: 'rr', destinations: live.destinations })], lab)).toEqual([]);
  });

  it('mh-sloppy: a service turned mh with no sync daemon and sloppy_tcp 0', () => {
    const ctx = { ...EMPTY_CONTEXT, sloppyTcp: 0, syncDaemons: 0 };
    expect(rules([svc()], [svc({ scheduler: 'mh' })], ctx)).toEqual(['mh-sloppy/warning']);
    expect(rules([svc()], [svc({ scheduler: 'mh' })], { ...ctx, syncDaemons: 1 })).toEqual([]);
    expect(rules([svc()], [svc({ scheduler: 'mh' })], { ...ctx, sloppyTcp: 1 })).toEqual([]);
  });

  it('vip-elsewhere: a new service on a VIP another director serves', () => {
    const ctx = { ...EMPTY_CONTEXT, others: [{ director: 'dir-b', vips: ['192.168.150.100'] }] };
    const v = judgeChange([], [svc()], ctx);
    expect(v.findings.map((f) => f.title)).toEqual(['VIP 192.168.150.100 is already served by director dir-b']);
    // a service this director already serves is not new
    expect(rules([svc()], [svc({ scheduler: 'rr' })], ctx)).toEqual([]);
  });

  it('last-healthy: removing or zeroing the last real server that serves', () => {
    expect(rules([svc()], [svc({ destinations: [rs('192.168.150.11', 0)] })])).toEqual(['last-healthy/critical']);
    expect(rules([svc()], [svc({ destinations: [] })])).toEqual(['last-healthy/critical']);
    // the other one is down: removing the healthy one leaves none
    const down = { ...EMPTY_CONTEXT, health: { [healthKey(key, rs('192.168.150.12'))]: 'down' as const } };
    expect(rules([svc()], [svc({ destinations: [rs('192.168.150.12')] })], down)).toEqual(['last-healthy/critical']);
    expect(rules([svc()], [svc({ destinations: [rs('192.168.150.12')] })])).toEqual([]);
  });

  it('weight0-persistence: a weight-0 server in a persistent service, unless quiescent templates expire', () => {
    const p = { flags: { ...DEFAULT_FLAGS, persistent: true }, timeout: 300 };
    const live = svc(p);
    const desired = svc({ ...p, destinations: [rs('192.168.150.11', 0), rs('192.168.150.12')] });
    const v = judgeChange([live], [desired], { ...EMPTY_CONTEXT, expireQuiescentTemplate: 0 });
    expect(v.findings.map((f) => `${f.rule}/${f.severity}`)).toEqual(['weight0-persistence/warning']);
    expect(v.findings[0]!.why).toContain('300 s');
    expect(rules([live], [desired], { ...EMPTY_CONTEXT, expireQuiescentTemplate: 1 })).toEqual([]);
  });

  it('sorts the worst first', () => {
    const p = { flags: { ...DEFAULT_FLAGS, persistent: true }, timeout: 300 };
    expect(rules([svc(p)], [svc({ ...p, destinations: [rs('192.168.150.11', 0)] })])).toEqual(['last-healthy/critical', 'weight0-persistence/warning']);
  });
});
