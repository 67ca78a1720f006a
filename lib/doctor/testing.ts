/** Evidence of the healthy lab (server/lab/guest/topology.sh) as the collector reads it, for rule tests. */
import { DEFAULT_FLAGS, type ForwardMethod } from '../ipvs/model';
import { type DoctorEvidence, type EvidenceService, serviceLabel } from './evidence';

export const VIP = '192.168.150.100';
export const RS1 = '192.168.150.12';
export const RS2 = '192.168.150.13';
export const DIRECTOR_MAC = '02:00:00:00:00:01';
export const RS2_MAC = '02:00:00:00:00:13';

function svc(port: number, forward: ForwardMethod, realPort = port): EvidenceService {
  const key = { kind: 'addr', family: 'inet', protocol: 'tcp', address: VIP, port } as const;
  return {
    key, label: serviceLabel(key), scheduler: 'rr', flags: { ...DEFAULT_FLAGS }, timeout: 0,
    destinations: [RS1, RS2].map((address) => ({ address, port: realPort, forward, weight: 1 })),
  };
}

export function healthyEvidence(): DoctorEvidence {
  return {
    at: 0,
    kernel: '6.1.0-28-amd64',
    sysctl: {
      'net.ipv4.ip_forward': 1,
      'net.ipv4.conf.all.rp_filter': 0,
      'net.ipv4.conf.br0.rp_filter': 0,
      'net.ipv4.conf.tunl0.rp_filter': 0,
      'net.ipv4.vs.conntrack': 0,
      'net.ipv4.vs.conn_reuse_mode': 1,
      'net.ipv4.vs.expire_nodest_conn': 0,
      'net.ipv4.vs.expire_quiescent_template': 0,
      'net.ipv4.vs.sloppy_tcp': 0,
      'net.ipv4.vs.drop_entry': 0,
      'net.ipv4.vs.drop_packet': 0,
      'net.ipv4.vs.secure_tcp': 0,
      'net.ipv4.vs.amemthresh': 1024,
      'net.netfilter.nf_conntrack_count': 0,
      'net.netfilter.nf_conntrack_max': 65536,
    },
    modules: { ipip: true, nf_conntrack: true },
    memAvailablePages: 100_000,
    interfaces: [
      { name: 'lo', mac: null, up: true, addresses: [{ address: '127.0.0.1', prefix: 8 }] },
      { name: 'br0', mac: DIRECTOR_MAC, up: true, addresses: [{ address: '192.168.150.1', prefix: 24 }, { address: VIP, prefix: 32 }] },
      { name: 'tunl0', mac: null, up: false, addresses: [] },
    ],
    routes: [{ dst: '192.168.150.0', prefix: 24, dev: 'br0', gateway: null }],
    neighbors: [
      { address: RS1, mac: '02:00:00:00:00:12', dev: 'br0' },
      { address: RS2, mac: RS2_MAC, dev: 'br0' },
    ],
    services: [svc(80, 'dr'), svc(8080, 'nat', 80), svc(8081, 'tun')],
    connTableSize: 4096,
    conns: {
      entries: 4, templates: 0,
      destinations: [
        { service: `TCP ${VIP}:80`, address: RS1, port: 80, connections: 2, byState: { FIN_WAIT: 2 } },
        { service: `TCP ${VIP}:80`, address: RS2, port: 80, connections: 2, byState: { FIN_WAIT: 1, SYN_RECV: 1 } },
      ],
      services: [{ service: `TCP ${VIP}:80`, connections: 4, clients: 1, clientsCapped: false, byDestination: { [`${RS1}:80`]: 2, [`${RS2}:80`]: 2 } }],
    },
    syncDaemons: [],
    ha: null,
    arp: [{ vip: VIP, interface: 'br0', source: '192.168.150.1', answers: [], error: null }],
  };
}
