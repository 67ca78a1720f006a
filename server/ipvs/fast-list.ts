/**
 * The table's structure for `director list` in the default layout and
 * `save --no-thresholds`, without one GET_DEST dump per service:
 * /proc/net/ip_vs gives services, real servers, forwarding, weights and
 * active/inactive counts in one read, and a single GET_SERVICE dump, decoded
 * without its counters, adds what /proc cannot say (scheduler flags,
 * persistence engine, IPv6 OPS, fwmark family).
 *
 * The two reads are not one snapshot: when they disagree about which
 * services exist (a change landed in between, or a fwmark whose family the
 * file cannot tell) the caller gets null and should fall back to dump().
 */
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { DEFAULT_TUNNEL, ZERO_STATS, type DestinationState, type ServiceKey, type ServiceSpec } from '@/lib/ipvs/model';
import { parseProcIpvsTable, type ProcDestination } from '@/lib/proc/ip-vs';
import type { ProcListingTable } from '@/lib/proc/ip-vs-listing';
import { serviceId } from '@/lib/ipvs/ids';
import { readProcText } from '../proc/read';

/** serviceId, with every fwmark as IPv4: /proc/net/ip_vs does not say a fwmark service's family. */
const keyId = (k: ServiceKey) => serviceId(k.kind === 'fwmark' ? { ...k, family: 'inet' } : k);

/** The same service (a fwmark's family as the file's parse guessed it: a guess that is wrong sends the caller to indexByKey). */
const sameKey = (a: ServiceKey, b: ServiceKey) => (a.kind === 'fwmark'
  ? b.kind === 'fwmark' && a.fwmark === b.fwmark && a.family === b.family
  : b.kind === 'addr' && a.protocol === b.protocol && a.port === b.port && a.address === b.address);

/** Netlink services by keyId, or null when two share one (an IPv4 and an IPv6 fwmark service with one mark: /proc cannot tell them apart). */
function indexByKey(services: ServiceSpec[]): Map<string, ServiceSpec> | null {
  const byId = new Map<string, ServiceSpec>();
  for (const s of services) {
    const id = keyId(s.key);
    if (byId.has(id)) return null;
    byId.set(id, s);
  }
  return byId;
}

const fromProc = (d: ProcDestination): DestinationState => ({
  family: d.family, address: d.address, port: d.port, forward: d.forward, weight: d.weight,
  upperThreshold: 0, lowerThreshold: 0, tunnel: DEFAULT_TUNNEL,
  activeConns: d.activeConns, inactiveConns: d.inactiveConns, persistentConns: 0, stats: ZERO_STATS,
});

/**
 * The table as the default `ipvsadm -Ln` layout and `ipvsadm -Sn` need it (lib/proc/ip-vs-listing.ts): every
 * service's configuration from netlink, its real servers as the file's rows, or as objects made when asked
 * for, with their thresholds, tunnel settings, persistent counts and stats zero (layouts that print none).
 */
export async function listStructure(backend: IpvsBackend, procDir = '/proc/net'): Promise<ProcListingTable | null> {
  // the dump is requested first: the kernel answers it while the file is read
  const dump = backend.listServiceSpecs();
  let text: string;
  try {
    text = readProcText(`${procDir}/ip_vs`);
  } catch (e) {
    dump.catch(() => {}); // the file's error is the one reported
    throw e;
  }
  const services = await dump;
  // HZ only scales the persistence timeout, which we take from netlink in seconds.
  const proc = parseProcIpvsTable(text, 1);
  if (proc.services.length !== services.length) return null;
  // Both reads walk the kernel's service tables in the same order, so a service is normally at the same
  // position in each: only when it is not are the netlink services indexed by key.
  let byId: Map<string, ServiceSpec> | null = null;
  const ordered: ServiceSpec[] = new Array(proc.services.length);
  for (let i = 0; i < proc.services.length; i++) {
    const p = proc.services[i]!;
    let s: ServiceSpec | undefined = services[i];
    if (!s || !sameKey(s.key, p.key)) {
      byId ??= indexByKey(services);
      if (!byId) return null;
      s = byId.get(keyId(p.key));
    }
    if (!s || s.scheduler !== p.scheduler) return null;
    ordered[i] = s;
  }
  return { services: ordered, rows: proc.rows, destinations: (i) => proc.destinations(i).map(fromProc) };
}
