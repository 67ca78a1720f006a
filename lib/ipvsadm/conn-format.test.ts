import { describe, expect, it } from 'vitest';
import { formatConnectionsLikeIpvsadm } from './conn-format';

// the kernel's lines of reference §7.3 and what ipvsadm -Lcn printed for them (§8.7)
const PROC = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP 0A000002 C350 CFAF2C6E 1F90 AC100002 1F90 ESTABLISHED     897
UDP 0A000002 A1B2 0A000001 0035 C0A80114 0035 UDP             287
IP  0A000000 0000 00000007 0000 C0A8011E 0000 NONE            350
UDP 0A000002 0000 0A000004 13C4 C0A80114 13C4 NONE             30 sip 1234abcd@host
TCP 2001:0db8:0000:0000:0000:0000:0000:0002 C350 2001:0db8:0000:0000:0000:0000:0000:0001 0050 2001:0db8:0000:0000:0000:0000:0000:000a 1F90 SYN_RECV         59
`;

describe('ipvsadm -Lcn from /proc/net/ip_vs_conn', () => {
  it('prints what ipvsadm prints', () => {
    expect(formatConnectionsLikeIpvsadm(PROC)).toBe(`IPVS connection entries
pro expire state       source             virtual            destination
TCP 14:57  ESTABLISHED 10.0.0.2:50000     207.175.44.110:8080 172.16.0.2:8080
UDP 04:47  UDP         10.0.0.2:41394     10.0.0.1:53        192.168.1.20:53
IP  05:50  NONE        10.0.0.0:0         0.0.0.7:0          192.168.1.30:0
UDP 00:30  NONE        10.0.0.2:0         10.0.0.4:5060      192.168.1.20:5060
TCP 00:59  SYN_RECV    [2001:db8::2]:50000 [2001:db8::1]:80   [2001:db8::a]:8080
`);
  });

  it('adds the PE columns with --persistent-conn, for lines that have them', () => {
    const out = formatConnectionsLikeIpvsadm(PROC, true).split('\n');
    expect(out[1]).toBe('pro expire state       source             virtual            destination        pe name          pe_data');
    expect(out[5]).toBe('UDP 00:30  NONE        10.0.0.2:0         10.0.0.4:5060      192.168.1.20:5060  sip              1234abcd@host');
    expect(out[2]).toBe('TCP 14:57  ESTABLISHED 10.0.0.2:50000     207.175.44.110:8080 172.16.0.2:8080');
  });
});
