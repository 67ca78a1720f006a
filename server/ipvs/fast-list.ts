/**
 * The table's structure for `director list` in the default layout and
 * `save --no-thresholds`, without one GET_DEST dump per service:
 * /proc/net/ip_vs gives services, real servers, forwarding, weights and
 * active/inactive counts in one read, and a single GET_SERVICE dump adds what
 * /proc cannot say (scheduler flags, persistence engine, IPv6 OPS, fwmark
 * family), decoded only for the services that have any.
 *
 * The two reads are not one snapshot: when they disagree about which
 * services exist (a change landed in between, or a fwmark whose family the
 * file cannot tell) the caller gets null and should fall back to dump().
 */
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { DEFAULT_TUNNEL, ZERO_STATS, type DestinationState, type ServiceKey, type ServiceSpec } from '@/lib/ipvs/model';
import { parseProcIpvsTable, type ProcDestination, type ProcIpvsTable, type ProcService } from '@/lib/proc/ip-vs';
import type { ProcListingTable } from '@/lib/proc/ip-vs-listing';
import { serviceId } from '@/lib/ipvs/ids';
import { readProcFile } from '../proc/read';

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
 * The table as the default `ipvsadm -Ln` layout and `ipvsadm -Sn` need it (lib/proc/ip-vs-listing.ts): the
 * services as the file's numbers, with a spec from netlink for each that says more than its line (flags,
 * persistence, IPv6, fwmarks), its real servers as the file's rows, or as objects made when asked for, with
 * their thresholds, tunnel settings, persistent counts and stats zero (layouts that print none).
 */
export async function listStructure(backend: IpvsBackend, procDir = '/proc/net'): Promise<ProcListingTable | null> {
  // HZ only scales the persistence timeout, which we take from netlink in seconds.
  const proc = parseProcIpvsTable(readProcFile(`${procDir}/ip_vs`), 1);
  const count = proc.services.count;
  // Both reads walk the kernel's service tables in the same order, so a service is normally at the same
  // position in each: a reply that is exactly the file's plain service there is not even decoded.
  let specs: readonly (ServiceSpec | undefined)[] | null = await backend.listServiceSpecsBeyond(proc.services);
  if (specs.length !== count) return null;
  for (let i = 0; i < count; i++) {
    const s = specs[i];
    if (s && !sameService(s, proc.service(i))) {
      specs = await byKey(backend, proc);
      break;
    }
  }
  return specs && {
    services: proc.services, specs, rows: proc.rows,
    destinations: (i) => proc.destinations(i).map(fromProc),
  };
}

const sameService = (s: ServiceSpec, p: ProcService) => sameKey(s.key, p.key) && s.scheduler === p.scheduler;

/**
 * Every service's spec, found by key: for when the two reads list the services in different orders (a change
 * landed in between). Null when they disagree about which services exist.
 */
async function byKey(backend: IpvsBackend, proc: ProcIpvsTable): Promise<ServiceSpec[] | null> {
  const byId = indexByKey(await backend.listServiceSpecs());
  if (!byId || byId.size !== proc.services.count) return null;
  const specs: ServiceSpec[] = [];
  for (let i = 0; i < proc.services.count; i++) {
    const p = proc.service(i);
    const s = byId.get(keyId(p.key));
    if (!s || s.scheduler !== p.scheduler) return null;
    specs.push(s);
  }
  return specs;
}
