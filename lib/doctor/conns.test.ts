import { describe, expect, it } from 'vitest';
import { formatConnLine } from '../conn/format';
import { ConnScanner, type ConnEntry } from '../conn/parse';
import { DoctorConnAccumulator, MAX_CLIENTS } from './conns';

const entry = (client: string, dest: string, state: string, clientPort = 40000): ConnEntry => ({
  protocol: 'tcp', family: 'inet', clientAddr: client, clientPort, vaddr: '192.168.150.100', fwmark: null, vport: 80,
  destFamily: 'inet', destAddr: dest, destPort: 80, state, expires: 60, template: false,
});

function scan(entries: ConnEntry[]) {
  const acc = new DoctorConnAccumulator();
  const s = new ConnScanner(acc.add);
  s.push('Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n');
  for (const e of entries) s.push(`${formatConnLine(e)}\n`);
  s.end();
  return acc.result();
}

describe('DoctorConnAccumulator', () => {
  it('counts states per real server and clients per service', () => {
    const r = scan([
      entry('192.168.150.200', '192.168.150.13', 'SYN_RECV', 1), entry('192.168.150.200', '192.168.150.13', 'SYN_RECV', 2),
      entry('192.168.150.201', '192.168.150.12', 'FIN_WAIT', 3),
    ]);
    expect(r.entries).toBe(3);
    expect(r.destinations.find((d) => d.address === '192.168.150.13')).toMatchObject({ service: 'TCP 192.168.150.100:80', connections: 2, byState: { SYN_RECV: 2 } });
    expect(r.services).toEqual([{ service: 'TCP 192.168.150.100:80', connections: 3, clients: 2, clientsCapped: false,
      byDestination: { '192.168.150.13:80': 2, '192.168.150.12:80': 1 } }]);
  });
  it('remembers at most MAX_CLIENTS addresses per service and says so', () => {
    const r = scan(Array.from({ length: MAX_CLIENTS + 5 }, (_, i) => entry(`10.0.${i >> 8}.${i & 255}`, '192.168.150.12', 'ESTABLISHED')));
    expect(r.services[0]).toMatchObject({ connections: MAX_CLIENTS + 5, clients: MAX_CLIENTS, clientsCapped: true });
  });
});
