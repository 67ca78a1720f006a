import { describe, expect, it } from 'vitest';
import { IpvsError } from './errors';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceKey, type ServiceSpec } from './model';
import { validateDaemonConfig, validateDestinationSpec, validateServiceSpec, validateTimeouts } from './validate';

const key: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 80 };
const svc = (o: Partial<ServiceSpec> = {}): ServiceSpec => ({ key, scheduler: 'rr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null, ...o });
const dst = (o: Partial<DestinationSpec> = {}): DestinationSpec => ({
  family: 'inet', address: '192.168.150.12', port: 80, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL }, ...o,
});
function refused(fn: () => void, code: string, message: RegExp) {
  let e: unknown;
  try { fn(); } catch (x) { e = x; }
  expect(e).toBeInstanceOf(IpvsError);
  expect((e as IpvsError).code).toBe(code);
  expect((e as IpvsError).message).toMatch(message);
}

describe('validateServiceSpec: what the kernel netlink path lets through', () => {
  it('accepts ordinary services', () => {
    expect(() => validateServiceSpec(svc())).not.toThrow();
    expect(() => validateServiceSpec(svc({ flags: { ...DEFAULT_FLAGS, persistent: true }, timeout: 360, netmask: '255.255.255.0' }))).not.toThrow();
    expect(() => validateServiceSpec(svc({ key: { kind: 'fwmark', family: 'inet6', fwmark: 1 }, netmask: '64', flags: { ...DEFAULT_FLAGS, onePacket: true } }))).not.toThrow();
  });
  it('refuses with the field named', () => {
    refused(() => validateServiceSpec(svc({ key: { ...key, port: 65536 } as ServiceKey })), 'out_of_range', /port 65536 of virtual service TCP 192\.168\.150\.100 is out of range/);
    refused(() => validateServiceSpec(svc({ key: { ...key, protocol: 'icmp' } as unknown as ServiceKey })), 'invalid', /protocol 'icmp'/);
    refused(() => validateServiceSpec(svc({ key: { kind: 'fwmark', family: 'inet', fwmark: 0 } })), 'out_of_range', /fwmark 0/);
    refused(() => validateServiceSpec(svc({ key: { ...key, port: 0 } as ServiceKey })), 'invalid', /TCP 192\.168\.150\.100:0: port 0 \(all ports\) is only allowed for a persistent service/);
    refused(() => validateServiceSpec(svc({ flags: { ...DEFAULT_FLAGS, onePacket: true } })), 'invalid', /one-packet scheduling is only for UDP/);
    refused(() => validateServiceSpec(svc({ flags: { ...DEFAULT_FLAGS, persistent: true }, timeout: 0 })), 'invalid', /needs a timeout/);
    refused(() => validateServiceSpec(svc({ timeout: 2678401 })), 'out_of_range', /persistence timeout 2678401 s/);
    refused(() => validateServiceSpec(svc({ netmask: '255.0.255.0' })), 'invalid', /netmask 255\.0\.255\.0 is not contiguous/);
    refused(() => validateServiceSpec(svc({ scheduler: '' })), 'invalid', /scheduler name '' must be 1\.\.15/);
  });
});

describe('validateDestinationSpec', () => {
  it('accepts DR, NAT, tunnels including mixed family over a tunnel', () => {
    expect(() => validateDestinationSpec(key, dst())).not.toThrow();
    expect(() => validateDestinationSpec(key, dst({ family: 'inet6', address: '2001:db8::1', forward: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' } }))).not.toThrow();
    expect(() => validateDestinationSpec(key, dst({ forward: 'tun', tunnel: { type: 'gre', port: 0, checksum: 'csum' } }))).not.toThrow();
  });
  it('refuses with the object and the reason', () => {
    refused(() => validateDestinationSpec(key, dst({ family: 'inet6', address: '2001:db8::1' })), 'invalid', /^IPv6 real server in IPv4 virtual service requires tunnel forwarding$/);
    refused(() => validateDestinationSpec(key, dst({ weight: 2 ** 31 })), 'out_of_range', /real server 192\.168\.150\.12:80 in virtual service TCP 192\.168\.150\.100:80: weight 2147483648/);
    refused(() => validateDestinationSpec(key, dst({ lowerThreshold: 1 })), 'out_of_range', /lower threshold 1 is above upper threshold 0/);
    refused(() => validateDestinationSpec(key, dst({ address: '224.0.0.1' })), 'invalid', /not a unicast address/);
    refused(() => validateDestinationSpec(key, dst({ forward: 'tun', tunnel: { type: 'gue', port: 0, checksum: 'nocsum' } })), 'invalid', /GUE tunnel needs a port/);
    refused(() => validateDestinationSpec(key, dst({ forward: 'tun', tunnel: { type: 'ipip', port: 0, checksum: 'csum' } })), 'invalid', /ipip tunnel has no checksum/);
    refused(() => validateDestinationSpec(key, dst({ forward: 'tun', tunnel: { type: 'gre', port: 0, checksum: 'remcsum' } })), 'invalid', /GRE tunnel cannot use remote checksum/);
    refused(() => validateDestinationSpec(key, dst({ tunnel: { type: 'gre', port: 0, checksum: 'nocsum' } })), 'invalid', /tunnel options need tunnel forwarding/);
    refused(() => validateDestinationSpec(key, dst({ port: -1 })), 'out_of_range', /port -1/);
  });
});

describe('timeouts and daemons', () => {
  it('refuses non-integers and bad daemon settings', () => {
    refused(() => validateTimeouts({ tcp: 1.5 }), 'out_of_range', /tcp timeout 1\.5/);
    refused(() => validateDaemonConfig({ state: 'master', interface: 'eth0', syncId: 256 }), 'out_of_range', /sync id 256/);
    refused(() => validateDaemonConfig({ state: 'master', interface: 'eth0', syncId: 1, group: '10.0.0.1' }), 'invalid', /not a multicast address/);
    expect(() => validateDaemonConfig({ state: 'backup', interface: 'lo', syncId: 0, group: 'ff02::81', port: 8848, ttl: 1, maxLen: 1472 })).not.toThrow();
  });
});
