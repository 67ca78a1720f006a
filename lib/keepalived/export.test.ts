/**
 * keepalived.conf export cannot be steered by a value: every string is
 * written bare, quoted, or refused with the field named, and for generated
 * configurations parse(export(x)) gives x back (fast-check, fixed seed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DestinationSpec, ServiceRules } from '../ipvs/model';
import { healthTableSchema, type Check, type HealthServiceConfig } from '../schemas/health';
import { serviceTableSchema } from '../schemas/ipvs';
import { formatKeepalived, KeepalivedExportError } from './format';
import { parseKeepalived } from './parse';

const dest = (address: string, weight = 1): DestinationSpec => ({
  family: 'inet', address, port: 80, forward: 'dr', weight, upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' },
});
const service = (dests: DestinationSpec[]): ServiceRules => ({
  key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 },
  scheduler: 'rr', flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0,
  netmask: '255.255.255.255', pe: null, destinations: dests,
});
const httpHealth = (url: Record<string, unknown>): HealthServiceConfig => healthTableSchema.parse([{
  service: service([]).key, onFailure: 'remove',
  realServers: [{ destination: dest('10.0.1.1'), checks: [{ type: 'http', urls: [{ path: '/', statusCodes: ['200'], ...url }] }] }],
}])[0]!;

describe('export refuses what keepalived.conf cannot hold', () => {
  // the demonstration: a regex whose line breaks close the blocks and open a virtual server with a MISC_CHECK
  const injected = 'ok\n        }\n    }\n}\nvirtual_server 10.9.9.9 80 {\n protocol TCP\n real_server 10.9.9.10 80 {\n  MISC_CHECK {\n   misc_path "/bin/sh -c id"\n  }\n }\n}\nvirtual_server 10.0.0.2 81 {\n real_server 10.0.1.2 81 {\n  HTTP_GET {\n   url {\n    path /\n    regex x';

  it('a line break in an HTTP check regex is refused, naming the field, and no extra block is written', () => {
    const h = httpHealth({ regex: injected });
    let text: string | null = null;
    let error: unknown = null;
    try {
      text = formatKeepalived([service([dest('10.0.1.1')])], [h]).text;
    } catch (e) {
      error = e;
    }
    // before the fix the text parsed back with a second virtual server carrying the MISC_CHECK
    if (text !== null) expect(parseKeepalived(text).services.map((s) => s.key)).toHaveLength(1);
    expect(error).toBeInstanceOf(KeepalivedExportError);
    expect((error as Error).message).toBe('TCP 10.0.0.1:80 real server 10.0.1.1:80 HTTP_GET url 1 regex: contains a line break or control character, which keepalived.conf cannot hold; nothing was exported');
  });

  it.each([
    ['a quote and a brace in a regex', { regex: 'a"{2}' }, /regex: contains both " and a brace/],
    ['a quote in a plain value that needs quoting', { path: '/a"#' }, /url 1 path: needs quotes .* contains " or \\/],
    ['a definition keepalived would substitute', { regex: 'x${_PWD}' }, /regex: contains \$ followed by a name/],
    ['a value longer than keepalived reads in a line', { path: `/${'a'.repeat(1000)}` }, /url 1 path: is longer than 900 bytes/],
    ['a trailing backslash that would continue the line', { path: '/a\\' }, /path: needs quotes/],
  ])('%s', (_name, url, re) => {
    expect(() => formatKeepalived([service([dest('10.0.1.1')])], [httpHealth(url)])).toThrow(re);
  });

  it('braces, comment signs and spaces are quoted and read back as they were', () => {
    const regex = 'a{2} #x !y }{';
    const path = '/p#q!r{s}';
    const out = formatKeepalived([service([dest('10.0.1.1')])], [httpHealth({ regex, path })]);
    expect(out.text).toContain(`regex "${regex}"`);
    const back = parseKeepalived(out.text);
    expect(back.errors).toEqual([]);
    expect(back.services).toHaveLength(1);
    expect(back.health[0]!.realServers[0]!.checks[0]).toMatchObject({ urls: [{ regex, path }] });
  });

  it('a regex is quoted with escapes, as keepalived reads regex (quotes, backslashes, single quotes)', () => {
    for (const regex of ['^\\d+$', '"status": *"ok"', "it's", 'a\\"b']) {
      const out = formatKeepalived([service([dest('10.0.1.1')])], [httpHealth({ regex })]);
      expect(parseKeepalived(out.text).health[0]!.realServers[0]!.checks[0]).toMatchObject({ urls: [{ regex }] });
    }
    expect(formatKeepalived([service([dest('10.0.1.1')])], [httpHealth({ regex: '^\\d+$' })]).text).toContain('regex "^\\\\d+$"\n');
  });

  it('misc_path is written as keepalived reads it (with escapes), whatever the checks folder is called', () => {
    const checksDir = '/etc/dir\\checks#1';
    const [h] = healthTableSchema.parse([{
      service: service([]).key, onFailure: 'remove',
      realServers: [{ destination: dest('10.0.1.1'), checks: [{ type: 'misc', script: 'check-web' }] }],
    }]);
    const out = formatKeepalived([service([dest('10.0.1.1')])], [h!], { checksDir });
    expect(out.text).toContain('misc_path "/etc/dir\\\\checks#1/check-web"\n');
    const back = parseKeepalived(out.text, { checksDir });
    expect(back.errors).toEqual([]);
    expect(back.health[0]!.realServers[0]!.checks[0]).toMatchObject({ type: 'misc', script: 'check-web' });
  });

  it('a backslash in a bare plain word is kept as it is (keepalived has no escapes there)', () => {
    const out = formatKeepalived([service([dest('10.0.1.1')])], [httpHealth({ path: '/a\\b' })]);
    expect(out.text).toContain('path /a\\b\n');
    expect(parseKeepalived(out.text).health[0]!.realServers[0]!.checks[0]).toMatchObject({ urls: [{ path: '/a\\b' }] });
  });
});

/** Strings rich in what the grammar treats specially. */
const nasty = fc.oneof(
  fc.array(fc.constantFrom('a', 'b', '1', ' ', '\n', '\r', '\t', '"', '\\', '{', '}', '#', '!', '$', '_', '.', '*', '(', ')', '/', 'é', '\u00a0', '\''), { maxLength: 24 }).map((a) => a.join('')),
  fc.string({ maxLength: 24 }),
);
const validRegex = nasty.filter((s) => {
  try {
    new RegExp(s);
    return s.length > 0;
  } catch {
    return false;
  }
});
const urlPath = nasty.map((s) => `/${s.replace(/\s/g, '')}`);
const hostname = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/);

const checkArb: fc.Arbitrary<Check> = fc.oneof(
  fc.record({
    type: fc.constant('http' as const),
    tls: fc.boolean(),
    urls: fc.array(fc.record({
      path: urlPath,
      statusCodes: fc.constantFrom(['200'], ['200-299'], ['200', '301-302']),
      regex: fc.option(validRegex, { nil: undefined }),
      virtualhost: fc.option(hostname, { nil: undefined }),
    }, { requiredKeys: ['path', 'statusCodes'] }), { minLength: 1, maxLength: 2 }),
    virtualhost: fc.option(hostname, { nil: undefined }),
    connectPort: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    timing: fc.record({ connectTimeout: fc.integer({ min: 1, max: 30 }) }, { requiredKeys: [] }),
  }, { requiredKeys: ['type', 'tls', 'urls', 'timing'] }),
  fc.record({
    type: fc.constant('tcp' as const),
    connectPort: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    timing: fc.record({ retry: fc.integer({ min: 0, max: 5 }) }, { requiredKeys: [] }),
  }, { requiredKeys: ['type', 'timing'] }),
) as fc.Arbitrary<Check>;

/** One service with 1-3 real servers and, maybe, checks on them. */
const configArb = fc.record({
  n: fc.integer({ min: 0, max: 200 }),
  protocol: fc.constantFrom('tcp' as const, 'udp' as const),
  port: fc.integer({ min: 1, max: 65535 }),
  scheduler: fc.constantFrom('rr', 'wrr', 'lc', 'wlc', 'sed', 'nq'),
  persistent: fc.option(fc.integer({ min: 1, max: 86_400 }), { nil: null }),
  forwards: fc.array(fc.constantFrom('nat' as const, 'dr' as const, 'tun' as const), { minLength: 1, maxLength: 3 }),
  weights: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 3, maxLength: 3 }),
  checked: fc.boolean(),
  quiesce: fc.boolean(),
  checks: fc.array(fc.array(checkArb, { maxLength: 2 }), { minLength: 3, maxLength: 3 }),
  delayLoop: fc.option(fc.integer({ min: 1, max: 600 }), { nil: undefined }),
});

describe('parse(export(x)) = x for generated configurations', () => {
  it('round trips or refuses with the field named', () => {
    let exported = 0;
    fc.assert(fc.property(fc.array(configArb, { minLength: 1, maxLength: 3 }), (cfgs) => {
      const services: ServiceRules[] = [];
      const health: HealthServiceConfig[] = [];
      cfgs.forEach((c, i) => {
        const key = { kind: 'addr' as const, family: 'inet' as const, protocol: c.protocol, address: `10.0.${i}.${c.n}`, port: c.port };
        const dests = c.forwards.map((f, j) => ({ ...dest(`10.1.${i}.${j + 1}`, c.weights[j]), port: c.port, forward: f }));
        services.push({
          key, scheduler: c.scheduler, flags: { persistent: c.persistent !== null, onePacket: false, sched1: false, sched2: false, sched3: false },
          timeout: c.persistent ?? 0, netmask: '255.255.255.255', pe: null, destinations: dests,
        });
        if (c.checked && c.checks.slice(0, dests.length).some((l) => l.length > 0)) {
          health.push({
            service: key, timing: c.delayLoop !== undefined ? { delayLoop: c.delayLoop } : {}, onFailure: c.quiesce ? 'quiesce' : 'remove', rampUpSec: 0, sorryServer: null,
            realServers: dests.map((d, j) => ({ destination: d, checks: c.checks[j]!, maintenance: false })),
          });
        }
      });
      const svc = serviceTableSchema.safeParse(services);
      const hs = healthTableSchema.safeParse(health);
      fc.pre(svc.success && hs.success);
      if (!svc.success || !hs.success) return;
      let text: string;
      try {
        text = formatKeepalived(svc.data, hs.data).text;
      } catch (e) {
        expect(e).toBeInstanceOf(KeepalivedExportError);
        expect((e as KeepalivedExportError).field).toMatch(/^(TCP|UDP) 10\.0\.\d\.\d+:\d+ real server 10\.1\.\d\.\d:\d+ (HTTP_GET|SSL_GET) (url \d (path|regex|virtualhost)|virtualhost)$/);
        return;
      }
      exported++;
      const back = parseKeepalived(text);
      expect(back.errors).toEqual([]);
      expect(back.services).toEqual(svc.data);
      expect(back.health).toEqual(hs.data);
    }), { seed: 23, numRuns: 1500 });
    // most generated configurations are exportable: the property is not vacuous
    expect(exported).toBeGreaterThan(500);
  });
});
