/**
 * The doctor's evidence on this director: sysctls and modules from /proc and
 * /sys, addresses, routes and neighbours through rtnetlink, the IPVS table
 * through the backend, the connection table from /proc/net/ip_vs_conn, and
 * (only when asked) an ARP probe with arping. No shell, no `ip` parsing; the
 * rules that judge it are pure (lib/doctor/rules.ts).
 */
import { execFile } from 'node:child_process';
import { access, open, readFile } from 'node:fs/promises';
import os from 'node:os';
import { netlink } from '../ipvs/netlink-module';
import { arpingArgs, parseArping } from '@/lib/doctor/arping';
import { DoctorConnAccumulator } from '@/lib/doctor/conns';
import {
  arpProbeTargets, serviceLabel, type DoctorEvidence, type EvidenceArpProbe, type EvidenceInterface, type EvidenceRoute,
} from '@/lib/doctor/evidence';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { HaStatus } from '@/lib/schemas/ha';
import { scanConnections } from '../conn/reader';

const AF_INET = 2;
const MAIN_TABLE = 254;
/** bounds, so a director with thousands of interfaces or neighbours still answers in bounded size */
const MAX_INTERFACES = 256;
const MAX_ROUTES = 4096;
const MAX_NEIGHBORS = 4096;
export const MAX_ARP_PROBES = 8;

export const ARPING = '/usr/bin/arping';

const VS_SYSCTLS = [
  'conntrack', 'conn_reuse_mode', 'expire_nodest_conn', 'expire_quiescent_template', 'sloppy_tcp',
  'drop_entry', 'drop_packet', 'secure_tcp', 'amemthresh',
].map((n) => `net.ipv4.vs.${n}`);
const OTHER_SYSCTLS = ['net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter', 'net.netfilter.nf_conntrack_count', 'net.netfilter.nf_conntrack_max'];

export interface CollectOptions {
  backend: IpvsBackend;
  ha?: HaStatus | null;
  /** send ARP requests for the VIPs of DR services (operator only on the API) */
  arp?: boolean;
  /** /proc/net/ip_vs_conn, for tests */
  connPath?: string;
  signal?: AbortSignal;
}

async function readNumber(file: string): Promise<number | null> {
  try {
    const n = Number((await readFile(file, 'utf8')).trim().split(/\s+/)[0]);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** "net.ipv4.conf.br0.rp_filter" -> /proc/sys/net/ipv4/conf/br0/rp_filter (interface names with dots use / in /proc, so build from parts). */
function sysctlPath(name: string, ifname?: string): string {
  if (ifname !== undefined) return `/proc/sys/net/ipv4/conf/${ifname}/${name}`;
  return `/proc/sys/${name.replace(/\./g, '/')}`;
}

const exists = (p: string) => access(p).then(() => true, () => false);

function mac(b: Buffer | undefined): string | null {
  if (!b || b.length !== 6 || b.every((x) => x === 0)) return null;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
const ipv4 = (b: Buffer | undefined): string | null => (b && b.length === 4 ? [...b].join('.') : null);

export async function readNetwork(): Promise<Pick<DoctorEvidence, 'interfaces' | 'routes' | 'neighbors'>> {
  const sock = netlink.createRtNetlink();
  try {
    // one dump at a time: the library cannot tell apart the parts of two dumps in flight on one socket
    const links = await sock.getLinks();
    const addrs = await sock.getAddresses();
    const routes = await sock.getRoutes({ family: AF_INET });
    const neighs = await sock.getNeighbors({ family: AF_INET });
    const names = new Map<number, string>();
    const interfaces: EvidenceInterface[] = [];
    for (const l of links.slice(0, MAX_INTERFACES)) {
      if (l.data.index === undefined || !l.attrs.ifname) continue;
      names.set(l.data.index, l.attrs.ifname);
      interfaces.push({ name: l.attrs.ifname, mac: mac(l.attrs.address), up: !!l.data.flags?.up, addresses: [] });
    }
    for (const a of addrs) {
      if (a.data.family !== AF_INET || a.data.index === undefined) continue;
      const ip = ipv4(a.attrs.local ?? a.attrs.address);
      const i = interfaces.find((x) => x.name === names.get(a.data.index!));
      if (ip && i) i.addresses.push({ address: ip, prefix: a.data.prefixlen ?? 32 });
    }
    const out: EvidenceRoute[] = [];
    for (const r of routes) {
      const table = r.attrs.table ?? r.data.table;
      if (table !== MAIN_TABLE || (r.data.type !== undefined && r.data.type !== 'UNICAST' && r.data.type !== 1)) continue;
      out.push({
        dst: ipv4(r.attrs.dst) ?? '0.0.0.0', prefix: r.data.dstLen ?? 0,
        dev: r.attrs.oif !== undefined ? names.get(r.attrs.oif) ?? null : null, gateway: ipv4(r.attrs.gateway),
      });
      if (out.length >= MAX_ROUTES) break;
    }
    const neighbors: DoctorEvidence['neighbors'] = [];
    for (const n of neighs) {
      const address = ipv4(n.attrs.dst), m = mac(n.attrs.lladdr);
      if (!address || !m || n.data.state?.failed || n.data.state?.incomplete) continue;
      neighbors.push({ address, mac: m, dev: names.get(n.data.ifindex ?? -1) ?? '?' });
      if (neighbors.length >= MAX_NEIGHBORS) break;
    }
    return { interfaces, routes: out, neighbors };
  } finally {
    sock.socket.close();
  }
}

/** MemAvailable in pages of this kernel (amemthresh's unit). */
async function memAvailablePages(): Promise<number | null> {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(await readFile('/proc/meminfo', 'utf8'));
    if (!m) return null;
    // the page size is in the first mapping of /proc/self/smaps; 4 KiB when it cannot be read
    let page = 4;
    const fh = await open('/proc/self/smaps', 'r').catch(() => null);
    if (fh) {
      try {
        const buf = Buffer.alloc(4096);
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        const p = /^KernelPageSize:\s+(\d+) kB/m.exec(buf.toString('utf8', 0, bytesRead));
        if (p) page = Number(p[1]);
      } finally {
        await fh.close();
      }
    }
    return Math.floor(Number(m[1]) / page);
  } catch {
    return null;
  }
}

function runArping(t: { vip: string; interface: string; source: string }): Promise<EvidenceArpProbe> {
  return new Promise((resolve) => {
    let args: string[];
    try {
      args = arpingArgs(t);
    } catch (e) {
      resolve({ ...t, answers: [], error: (e as Error).message });
      return;
    }
    execFile(ARPING, args, { timeout: 6000, encoding: 'utf8', maxBuffer: 64 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      // arping exits 1 when nobody answered: that is the healthy outcome, not an error
      const code = (err as { code?: unknown } | null)?.code;
      const failed = err && !(code === 1 && !stderr.trim());
      resolve({
        ...t,
        answers: parseArping(stdout),
        error: failed ? (code === 'ENOENT' ? `${ARPING} is not installed (Debian package iputils-arping)` : `arping: ${(stderr.trim() || err.message).slice(0, 300)}`) : null,
      });
    });
  });
}

/** Every fact the rules judge; `arp` sends ARP requests for DR VIPs on the interfaces towards their real servers. */
export async function collectEvidence(o: CollectOptions): Promise<DoctorEvidence> {
  const [entries, info, daemons, net, mem] = await Promise.all([
    o.backend.dump(), o.backend.info(), o.backend.listDaemons(), readNetwork(), memAvailablePages(),
  ]);
  const sysctl: Record<string, number | null> = {};
  await Promise.all([...VS_SYSCTLS, ...OTHER_SYSCTLS].map(async (n) => { sysctl[n] = await readNumber(sysctlPath(n)); }));
  await Promise.all(net.interfaces.map(async (i) => { sysctl[`net.ipv4.conf.${i.name}.rp_filter`] = await readNumber(sysctlPath('rp_filter', i.name)); }));
  // act_ct's module count is held by each tc ct action: above 0, something confirms conntrack entries before IPVS
  const [ipip, nfConntrack, actCtRefs] = await Promise.all([exists('/sys/module/ipip'), exists('/sys/module/nf_conntrack'), readNumber('/sys/module/act_ct/refcnt')]);

  let conns: DoctorEvidence['conns'] = null;
  try {
    const acc = new DoctorConnAccumulator();
    await scanConnections(acc.add, { ...(o.connPath ? { path: o.connPath } : {}), ...(o.signal ? { signal: o.signal } : {}) });
    conns = acc.result();
  } catch {
    conns = null;
  }

  const services = entries.map((s) => ({
    key: s.key, label: serviceLabel(s.key), scheduler: s.scheduler, flags: s.flags, timeout: s.timeout,
    destinations: s.destinations.map((d) => ({ address: d.address, port: d.port, forward: d.forward, weight: d.weight })),
  }));
  const ev: DoctorEvidence = {
    at: Date.now(),
    kernel: os.release(),
    sysctl,
    modules: { ipip, nf_conntrack: nfConntrack, act_ct: (actCtRefs ?? 0) > 0 },
    memAvailablePages: mem,
    ...net,
    services,
    connTableSize: info.connTableSize,
    conns,
    syncDaemons: daemons,
    ha: o.ha?.enabled
      ? { director: o.ha.director, groups: o.ha.groups.map((g) => ({ name: g.name, vips: g.vips, vrrpState: g.vrrpState, vipsPresent: g.vipsPresent })) }
      : null,
    arp: null,
  };
  if (o.arp) ev.arp = await Promise.all(arpProbeTargets(ev).slice(0, MAX_ARP_PROBES).map(runArping));
  return ev;
}
