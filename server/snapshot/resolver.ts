/**
 * Name lookups for snapshots written by `ipvsadm -S` without -n: service
 * names from /etc/services (what getservbyname reads) and host names through
 * the system resolver (node:dns lookup, i.e. getaddrinfo: /etc/hosts, then
 * whatever resolv.conf names; Director itself sends nothing anywhere else).
 */
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import type { AddressFamily, Protocol } from '@/lib/ipvs/model';
import type { NameResolver } from '@/lib/snapshot/resolve';

/** `name port/proto [aliases...]` lines; first entry wins, as getservbyname does. */
export function parseServicesFile(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [name, portProto, ...aliases] = line.split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(portProto ?? '');
    if (!name || !m) continue;
    const port = Number(m[1]);
    if (port > 65535) continue;
    for (const n of [name, ...aliases]) {
      const k = `${m[2]!.toLowerCase()}/${n}`;
      if (!map.has(k)) map.set(k, port);
    }
  }
  return map;
}

export interface SystemResolverOptions {
  servicesPath?: string;
}

export function systemResolver(opts: SystemResolverOptions = {}): NameResolver {
  let services: Promise<Map<string, number>> | null = null;
  const load = () => (services ??= readFile(opts.servicesPath ?? '/etc/services', 'utf8')
    .then(parseServicesFile)
    .catch(() => new Map<string, number>()));
  return {
    async resolveService(name: string, protocol: Protocol) {
      return (await load()).get(`${protocol}/${name}`) ?? null;
    },
    async resolveHost(name: string, family: AddressFamily) {
      try {
        const r = await lookup(name, { family: family === 'inet' ? 4 : 6 });
        return r.address;
      } catch {
        return null;
      }
    },
  };
}
