/**
 * Bounded fuzzing of the keepalived.conf parser with includes (fixed seed,
 * 10,000 inputs): no input throws or takes a second, and whatever parses
 * cleanly exports to text that parses back the same (or is refused by name).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatKeepalived, KeepalivedExportError } from './format';
import { parseKeepalived, type IncludeReader } from './parse';

const WORDS = [
  'virtual_server', 'real_server', 'virtual_server_group', 'include', 'HTTP_GET', 'SSL_GET', 'TCP_CHECK', 'MISC_CHECK', 'url', 'path',
  'regex', 'status_code', 'digest', 'virtualhost', 'protocol', 'TCP', 'UDP', 'lvs_sched', 'rr', 'wlc', 'sh', 'lvs_method', 'NAT', 'DR',
  'TUN', 'type', 'gue', 'port', 'weight', 'persistence_timeout', 'persistence_granularity', 'delay_loop', 'connect_timeout', 'retry',
  'inhibit_on_failure', 'sorry_server', 'fwmark', 'group', 'misc_path', 'misc_timeout', 'misc_dynamic', 'connect_port', 'ip_family',
  'inet6', 'global_defs', 'vrrp_instance', 'sh-port', 'ops', 'quorum', 'alpha',
  '10.0.0.1', '10.0.0.2', '10.0.1.1', '10.0.1.1-3', '10.0.2.0/30', '2001:db8::1', '80', '8080', '0', '1', '-1', '65536', '200', '200-299',
  '/', '/healthz', 'a.conf', 'b.conf', '*.conf', 'self.conf', '../x.conf',
];
const PIECES = ['{', '}', '\n', '\n', '\n', ' ', '"', '\\', '#', '!', '$_PWD', '"a b"', '"x\\"y"'];
const token = fc.oneof({ arbitrary: fc.constantFrom(...WORDS), weight: 6 }, { arbitrary: fc.constantFrom(...PIECES), weight: 4 }, { arbitrary: fc.string({ maxLength: 6 }), weight: 1 });
const text = fc.array(token, { maxLength: 60 }).map((ts) => ts.join(' '));

describe('keepalived parser fuzz', () => {
  it('10,000 inputs with includes: no crash, none over a second, clean parses export and parse back', () => {
    let slowest = 0;
    let clean = 0;
    fc.assert(fc.property(text, text, text, (main, a, b) => {
      const files: Record<string, string> = { 'a.conf': a, 'b.conf': b, 'self.conf': main };
      const include: IncludeReader = (pattern) => {
        if (pattern === '*.conf') return Object.keys(files).sort().map((f) => ({ file: f, text: files[f]! }));
        if (!(pattern in files)) throw new Error(`${pattern}: no such file`);
        return [{ file: pattern, text: files[pattern]! }];
      };
      const t0 = performance.now();
      const r = parseKeepalived(main, { file: 'self.conf', include });
      slowest = Math.max(slowest, performance.now() - t0);
      for (const e of r.errors) expect(typeof e.line).toBe('number');
      if (r.errors.length > 0) {
        expect(r.services).toEqual([]);
        return;
      }
      clean++;
      let out: string;
      try {
        out = formatKeepalived(r.services, r.health).text;
      } catch (e) {
        expect(e).toBeInstanceOf(KeepalivedExportError);
        return;
      }
      const back = parseKeepalived(out);
      expect(back.errors).toEqual([]);
      expect(back.services.length).toBeGreaterThanOrEqual(r.services.filter((s) => s.destinations.length > 0).length);
    }), { seed: 2323, numRuns: 10_000 });
    expect(slowest).toBeLessThan(1000);
    expect(clean).toBeGreaterThan(0);
  }, 120_000);
});
