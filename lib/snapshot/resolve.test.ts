import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AddressFamily, Protocol } from '../ipvs/model';
import { formatSnapshot } from './format';
import { parseSnapshot } from './parse';
import type { NameResolver } from './resolve';

const REFERENCE = readFileSync(path.join(import.meta.dirname, 'fixtures/reference-8.4.txt'), 'utf8');

const HOSTS: Record<string, string> = { web1: '192.168.1.10', web2: '192.168.1.11', vip: '10.0.0.1' };
const PORTS: Record<string, number> = { 'tcp/http': 80, 'tcp/http-alt': 8080, 'udp/domain': 53 };

/** A resolver that logs its calls and counts how many are unanswered at once. */
function recording(opts: { reject?: boolean } = {}) {
  const calls: string[] = [];
  let open = 0;
  let maxOpen = 0;
  const answer = async <T>(call: string, value: T): Promise<T> => {
    calls.push(call);
    maxOpen = Math.max(maxOpen, ++open);
    await new Promise((r) => setTimeout(r, 1));
    open--;
    if (opts.reject) throw new Error('resolver down');
    return value;
  };
  const resolver: NameResolver = {
    resolveHost: (name: string, family: AddressFamily) => answer(`host ${family}/${name}`, HOSTS[name] ?? null),
    resolveService: (name: string, protocol: Protocol) => answer(`service ${protocol}/${name}`, PORTS[`${protocol}/${name}`] ?? null),
  };
  return { resolver, calls, maxOpen: () => maxOpen };
}

describe('name lookups during a parse', () => {
  it('numeric input never reaches the resolver', async () => {
    const r = recording();
    const p = await parseSnapshot(REFERENCE, { resolver: r.resolver });
    expect(p.errors).toEqual([]);
    expect(r.calls).toEqual([]);
  });

  it('lines with several names (service and real server, host and port) read as their numeric form', async () => {
    const r = recording();
    const p = await parseSnapshot([
      '-A -t vip:http -s rr',
      '-a -t vip:http -r web1:http-alt -m -w 2',
      '-a -t vip:http -r web2 -g',
      '-A -u vip:domain -s wlc',
      '-a -u vip:domain -r web1:domain -m',
    ].join('\n'), { resolver: r.resolver });
    expect(p.errors).toEqual([]);
    expect(formatSnapshot(p.services)).toBe([
      '-A -t 10.0.0.1:80 -s rr',
      '-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 2',
      '-a -t 10.0.0.1:80 -r 192.168.1.11:80 -g -w 1',
      '-A -u 10.0.0.1:53 -s wlc',
      '-a -u 10.0.0.1:53 -r 192.168.1.10:53 -m -w 1',
      '',
    ].join('\n'));
    expect(p.lines).toEqual([{ service: 1, destinations: [2, 3] }, { service: 4, destinations: [5] }]);
    // each name once, however many lines use it
    expect([...r.calls].sort()).toEqual([
      'host inet/vip', 'host inet/web1', 'host inet/web2', 'service tcp/http', 'service tcp/http-alt', 'service udp/domain',
    ]);
  });

  it('looks up the names of all lines together, not line by line', async () => {
    const r = recording();
    const text = Array.from({ length: 200 }, (_, i) => `-A -t h${i}:80`).join('\n');
    const p = await parseSnapshot(text, { resolver: r.resolver });
    expect(r.calls).toHaveLength(200);
    expect(r.maxOpen()).toBe(200);
    expect(p.errors).toHaveLength(100);
    expect(p.errors[0]).toEqual({ line: 1, column: 4, message: "cannot resolve host name 'h0' to an IPv4 address" });
  });

  it('a host that does not resolve ends the line: its port name is never asked for', async () => {
    const r = recording();
    const p = await parseSnapshot('-A -t nosuchhost:http', { resolver: r.resolver });
    expect(p.errors).toEqual([{ line: 1, column: 4, message: "cannot resolve host name 'nosuchhost' to an IPv4 address" }]);
    expect(r.calls).toEqual(['host inet/nosuchhost']);
  });

  it('a failing resolver is a name that does not resolve', async () => {
    const r = recording({ reject: true });
    const p = await parseSnapshot('-A -t 10.0.0.1:http\n-A -t web1:80', { resolver: r.resolver });
    expect(p.errors.map((e) => e.message)).toEqual([
      "unknown service name 'http' for tcp in '10.0.0.1:http'",
      "cannot resolve host name 'web1' to an IPv4 address",
    ]);
  });

  it('file order decides, whichever lines waited for a lookup', async () => {
    const r = recording();
    const p = await parseSnapshot('-A -t 10.0.0.1:http -s rr\n-A -t 10.0.0.1:80 -s wrr\n-a -t vip:80 -r web1 -m\n-a -t 10.0.0.1:80 -r 192.168.1.10 -g', { resolver: r.resolver });
    expect(p.errors).toEqual([
      { line: 2, column: 4, message: 'duplicate service -t 10.0.0.1:80: already defined on line 1' },
      { line: 4, column: 19, message: 'duplicate real server 192.168.1.10:80 in service -t 10.0.0.1:80: already on line 3' },
    ]);
  });
});
