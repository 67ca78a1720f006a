import { describe, expect, it } from 'vitest';
import { dnsAnswer, formatHostsFile, parseHostsFile } from './dns-answer';

const g = (name: string, vip: string, holder: string | null, holderOut = false) => ({ name, vips: [`${vip}/32`], holder, holderOut });

describe('dnsAnswer', () => {
  it('offers the first VIP of every group with a master in service', () => {
    expect(dnsAnswer([g('g1', '192.168.150.100', 'lvs1'), g('g2', '192.168.150.101', 'lvs2')])).toEqual(['192.168.150.100', '192.168.150.101']);
  });
  it('leaves out a group nobody holds (moving) and one whose holder is in maintenance', () => {
    expect(dnsAnswer([g('g1', '192.168.150.100', null), g('g2', '192.168.150.101', 'lvs2')])).toEqual(['192.168.150.101']);
    expect(dnsAnswer([g('g1', '192.168.150.100', 'lvs1', true), g('g2', '192.168.150.101', 'lvs2')])).toEqual(['192.168.150.101']);
  });
  it('keeps both VIPs when one director holds both groups', () => {
    expect(dnsAnswer([g('g1', '192.168.150.100', 'lvs2'), g('g2', '192.168.150.101', 'lvs2')])).toEqual(['192.168.150.100', '192.168.150.101']);
  });
  it('answers nothing when no group has a master', () => {
    expect(dnsAnswer([g('g1', '192.168.150.100', null)])).toEqual([]);
  });
});

describe('hosts file', () => {
  it('round-trips through parseHostsFile, and refuses a file it did not write', () => {
    const text = formatHostsFile('www.director.test', ['192.168.150.100', '192.168.150.101']);
    expect(text.split('\n').slice(1)).toEqual(['192.168.150.100 www.director.test', '192.168.150.101 www.director.test', '']);
    expect(parseHostsFile(text, 'www.director.test')).toEqual(['192.168.150.100', '192.168.150.101']);
    expect(parseHostsFile('10.0.0.1 www.director.test\n', 'www.director.test')).toBeNull();
  });
});
