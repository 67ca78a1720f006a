import { describe, expect, it } from 'vitest';
import { arpingArgs, parseArping } from './arping';

describe('arping', () => {
  it('builds fixed arguments and refuses what is not an interface or an address', () => {
    expect(arpingArgs({ vip: '192.168.150.100', interface: 'br0', source: '192.168.150.1' }))
      .toEqual(['-b', '-c', '2', '-w', '3', '-I', 'br0', '-s', '192.168.150.1', '192.168.150.100']);
    expect(() => arpingArgs({ vip: '192.168.150.100', interface: '-f;x', source: '192.168.150.1' })).toThrow(/not an interface name/);
    expect(() => arpingArgs({ vip: '192.168.150.100', interface: 'averyveryverylongname', source: '192.168.150.1' })).toThrow(/not an interface/);
    expect(() => arpingArgs({ vip: '-D', interface: 'br0', source: '192.168.150.1' })).toThrow(/not an IPv4 address/);
  });
  it('reads each replying MAC once, lower-cased', () => {
    const out = `ARPING 192.168.150.100 from 192.168.150.1 br0
Unicast reply from 192.168.150.100 [02:AA:00:00:00:13]  0.611ms
Unicast reply from 192.168.150.100 [02:aa:00:00:00:13]  0.5ms
Broadcast reply from 192.168.150.100 [02:AA:00:00:00:12]  0.7ms
Sent 2 probes (2 broadcast(s))
Received 3 response(s)
`;
    expect(parseArping(out)).toEqual([{ ip: '192.168.150.100', mac: '02:aa:00:00:00:13' }, { ip: '192.168.150.100', mac: '02:aa:00:00:00:12' }]);
    expect(parseArping(out, 1)).toHaveLength(1);
    expect(parseArping('Sent 2 probes (2 broadcast(s))\nReceived 0 response(s)\n')).toEqual([]);
  });
});
