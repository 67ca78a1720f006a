import { describe, expect, it } from 'vitest';
import { formatDestination, formatService, formatServiceKey } from './format';

describe('format', () => {
  it('labels services like ipvsadm, with one space', () => {
    expect(formatServiceKey({ kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 80 })).toBe('TCP 192.168.150.100:80');
    expect(formatServiceKey({ kind: 'addr', family: 'inet6', protocol: 'udp', address: '2001:db8::1', port: 53 })).toBe('UDP [2001:db8::1]:53');
    expect(formatServiceKey({ kind: 'addr', family: 'inet', protocol: 'sctp', address: '10.0.0.3', port: 3868 })).toBe('SCTP 10.0.0.3:3868');
    expect(formatServiceKey({ kind: 'fwmark', family: 'inet', fwmark: 7 })).toBe('FWM 7');
    expect(formatServiceKey({ kind: 'fwmark', family: 'inet6', fwmark: 9 })).toBe('FWM 9 IPv6');
  });
  it('adds the scheduler and formats destinations', () => {
    expect(formatService({ key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 80 }, scheduler: 'rr' }))
      .toBe('TCP 192.168.150.100:80 (rr)');
    expect(formatDestination({ family: 'inet', address: '192.168.150.12', port: 80 })).toBe('192.168.150.12:80');
    expect(formatDestination({ family: 'inet6', address: '2001:db8::a', port: 8080 })).toBe('[2001:db8::a]:8080');
  });
});
