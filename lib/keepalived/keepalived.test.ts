/**
 * keepalived.conf import/export: named cases for the grammar and keepalived's
 * defaults, errors with line numbers, and a round trip over a corpus of
 * realistic files (parse -> format -> parse gives the same table and checks,
 * and formatting is stable).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatKeepalived } from './format';
import { parseKeepalived, type IncludeReader } from './parse';
import { makeSnapshot, readSnapshotJson, stringifySnapshot } from '../snapshot/json';

const CORPUS = path.join(import.meta.dirname, 'corpus');

/** Test include reader over the corpus folder: relative to the including file, '*' globs in the last part. */
const reader: IncludeReader = (pattern, from) => {
  const full = path.resolve(path.dirname(from), pattern);
  const dir = path.dirname(full);
  const re = new RegExp(`^${path.basename(full).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => ({ file: path.join(dir, f), text: readFileSync(path.join(dir, f), 'utf8') }));
};

function parseFile(name: string) {
  const file = path.join(CORPUS, name);
  return parseKeepalived(readFileSync(file, 'utf8'), { file, include: reader });
}

const corpus = readdirSync(CORPUS).filter((f) => f.endsWith('.conf'));

describe('corpus round trip', () => {
  it('has realistic files', () => expect(corpus.length).toBeGreaterThanOrEqual(6));
  for (const name of corpus) {
    it(name, () => {
      const a = parseFile(name);
      expect(a.errors).toEqual([]);
      expect(a.services.length).toBeGreaterThan(0);
      const text = formatKeepalived(a.services, a.health).text;
      const b = parseKeepalived(text, { file: 'exported.conf' });
      expect(b.errors).toEqual([]);
      expect(b.services).toEqual(a.services);
      expect(b.health).toEqual(a.health);
      expect(formatKeepalived(b.services, b.health).text).toBe(text);
    });
  }
});

describe('the reference example (§9.7)', () => {
  const r = parseFile('01-reference-example.conf');
  it('gives the rules the reference derives', () => {
    expect(r.services.map((s) => [s.key, s.scheduler, s.flags.persistent, s.timeout, s.flags.sched2])).toEqual([
      [{ kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.100', port: 80 }, 'wlc', true, 300, false],
      [{ kind: 'fwmark', family: 'inet', fwmark: 7 }, 'sh', false, 0, true],
    ]);
    expect(r.services[0]!.destinations.map((d) => [d.address, d.port, d.forward, d.weight])).toEqual([
      ['192.168.1.10', 8080, 'nat', 5], ['192.168.1.11', 8080, 'nat', 1],
    ]);
    expect(r.services[1]!.destinations.map((d) => [d.address, d.port, d.forward, d.weight])).toEqual([['192.168.1.30', 0, 'dr', 1]]);
  });
  it('gives the checks, timing, failure actions and sorry server', () => {
    const h = r.health[0]!;
    expect(h.timing).toEqual({ delayLoop: 6 });
    expect(h.onFailure).toBe('remove');
    expect(h.sorryServer).toMatchObject({ address: '192.168.1.250', port: 80, forward: 'nat', weight: 1 });
    expect(h.realServers[0]).toMatchObject({
      onFailure: 'quiesce',
      checks: [{ type: 'http', tls: false, urls: [{ path: '/healthz', statusCodes: ['200'] }], timing: { connectTimeout: 3, retry: 3, delayBeforeRetry: 2 } }],
    });
    expect(h.realServers[1]!.checks).toEqual([{ type: 'tcp', timing: { connectTimeout: 3 } }]);
    expect(r.health[1]!.realServers[0]!.checks).toEqual([{ type: 'misc', script: 'check.sh', timeoutSec: 5, dynamic: false, timing: {} }]);
  });
  it('notes the skipped VRRP and global blocks', () => {
    expect(r.notes.map((n) => [n.line, n.message])).toEqual([
      [2, 'global_defs skipped: not part of the IPVS table or checks'],
      [6, 'vrrp_instance VI_1 skipped: VRRP is configured separately'],
    ]);
  });
});

describe('grammar and keepalived defaults', () => {
  const one = (body: string, head = '10.0.0.1 80') => parseKeepalived(`virtual_server ${head} {\n${body}\n}\n`);

  it('braces inside lines, quotes with escapes, both comment kinds', () => {
    const r = one('protocol TCP ! comment\nlvs_sched rr # another\nlvs_method DR\nreal_server 10.0.1.1 80 { weight 2\nHTTP_GET { url { path /\nregex "say \\"a b\\" # not a comment" } } }');
    expect(r.errors).toEqual([]);
    expect(r.services[0]!.destinations[0]!.weight).toBe(2);
    expect(r.health[0]!.realServers[0]!.checks[0]).toMatchObject({ urls: [{ regex: 'say "a b" # not a comment' }] });
  });

  it('MISC_CHECK: misc_path names a script in the checks folder, or the line is refused', () => {
    const misc = (p: string, checksDir?: string) => parseKeepalived(
      `virtual_server 10.0.0.1 80 {\nprotocol TCP\nreal_server 10.0.1.1 80 {\nMISC_CHECK {\nmisc_path ${p}\nmisc_dynamic\n}\n}\n}\n`,
      checksDir ? { checksDir } : {},
    );
    expect(misc('"/etc/director/checks.d/check-web"').health[0]!.realServers[0]!.checks).toEqual([{ type: 'misc', script: 'check-web', dynamic: true, timing: {} }]);
    expect(misc('/srv/checks/ping.sh', '/srv/checks/').health[0]!.realServers[0]!.checks[0]).toMatchObject({ script: 'ping.sh' });
    const refused: [string, RegExp][] = [
      ['"/etc/director/checks.d/check-web 10.0.1.1"', /misc_path: '.*' has arguments; Director runs a script from \/etc\/director\/checks\.d/],
      ['"/usr/local/bin/check.sh"', /misc_path: '\/usr\/local\/bin\/check\.sh' is not a script in the checks folder \/etc\/director\/checks\.d/],
      ['"/etc/director/checks.d/../../../bin/sh"', /is not a script in the checks folder/],
      ['"/etc/director/checks.d/sub/x"', /is not a script in the checks folder/],
      ['"sh -c \'id\'"', /has arguments/],
      ['"/etc/director/checks.d/x;id"', /is not a script in the checks folder/],
    ];
    for (const [p, why] of refused) {
      const r = misc(p);
      expect(r.errors, p).toEqual([{ file: 'keepalived.conf', line: 5, message: expect.stringMatching(why) }]);
      expect(r.services).toEqual([]);
      expect(r.health).toEqual([]);
    }
  });

  it('exports misc checks as a path in the checks folder', () => {
    const r = parseKeepalived('virtual_server 10.0.0.1 80 {\nprotocol TCP\nreal_server 10.0.1.1 80 {\nMISC_CHECK {\nmisc_path /srv/c/ping\n}\n}\n}\n', { checksDir: '/srv/c' });
    const text = formatKeepalived(r.services, r.health, { checksDir: '/srv/c' }).text;
    expect(text).toContain('misc_path /srv/c/ping');
    expect(formatKeepalived(r.services, r.health).text).toContain('misc_path /etc/director/checks.d/ping');
  });

  it('{ alone on the next line', () => {
    const r = parseKeepalived('virtual_server 10.0.0.1 80\n{\nprotocol TCP\nlvs_sched rr\nlvs_method DR\nreal_server 10.0.1.1 80\n{\n}\n}\n');
    expect(r.errors).toEqual([]);
    expect(r.services[0]!.destinations.length).toBe(1);
  });

  it('missing protocol is UDP, scheduler wlc, method NAT, each with a warning', () => {
    const r = one('real_server 10.0.1.1 80 {\n}');
    expect(r.services[0]).toMatchObject({ key: { protocol: 'udp' }, scheduler: 'wlc', destinations: [{ forward: 'nat', weight: 1 }] });
    expect(r.warnings.map((w) => w.message).sort()).toEqual(['no lvs_method: keepalived uses NAT', 'no lvs_sched: keepalived uses wlc', 'no protocol: keepalived uses UDP']);
  });

  it('persistence: bare timeout is 360; granularity implies persistence', () => {
    expect(one('protocol TCP\npersistence_timeout\nreal_server 10.0.1.1 80 {\n}').services[0]).toMatchObject({ timeout: 360, flags: { persistent: true } });
    expect(one('protocol TCP\npersistence_granularity 255.255.255.0\nreal_server 10.0.1.1 80 {\n}').services[0])
      .toMatchObject({ timeout: 360, netmask: '255.255.255.0', flags: { persistent: true } });
  });

  it('a status_code default of 200-299 and TUN options', () => {
    const r = one('protocol TCP\nlvs_method TUN type gue port 6080 remcsum\nreal_server 10.0.1.1 80 {\nHTTP_GET { url { path /x } }\n}');
    expect(r.errors).toEqual([]);
    expect(r.services[0]!.destinations[0]).toMatchObject({ forward: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'remcsum' } });
    expect(r.health[0]!.realServers[0]!.checks[0]).toMatchObject({ urls: [{ path: '/x', statusCodes: ['200-299'] }] });
  });

  it('groups expand to one service per address and fwmark', () => {
    const r = parseFile('03-groups-and-ranges.conf');
    expect(r.services.map((s) => (s.key.kind === 'fwmark' ? `fwm ${s.key.fwmark}` : `${s.key.address}:${s.key.port}`)))
      .toEqual(['10.10.0.10:80', '10.10.0.20:80', '10.10.0.21:80', '10.10.0.22:80', 'fwm 15']);
    expect(r.health.length).toBe(5);
  });

  it('includes are spliced in from the reader', () => {
    const r = parseFile('07-split-with-include.conf');
    expect(r.services.map((s) => (s.key.kind === 'addr' ? s.key.port : 0))).toEqual([8443, 25]);
  });
});

describe('errors carry line numbers and nothing is returned to apply', () => {
  const cases: [string, string, number, RegExp][] = [
    ['unknown keyword', 'virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lvs_schedd rr\n  real_server 10.0.1.1 80 {\n  }\n}\n', 3, /unknown keyword 'lvs_schedd' in virtual_server/],
    ['bad scheduler', 'virtual_server 10.0.0.1 80 {\n  lvs_sched fastest\n}\n', 2, /unknown scheduler 'fastest'/],
    ['bad address', 'virtual_server 10.0.0.300 80 {\n}\n', 1, /'10\.0\.0\.300' is not an IPv4 or IPv6 address/],
    ['weight range', 'virtual_server 10.0.0.1 80 {\nprotocol TCP\nreal_server 10.0.1.1 80 {\n  weight -1\n}\n}\n', 4, /weight must be a whole number from 0 to 2147483647/],
    ['sh-port before sh', 'virtual_server 10.0.0.1 80 {\nprotocol TCP\nsh-port\nlvs_sched sh\nreal_server 10.0.1.1 80 {\n}\n}\n', 3, /sh-port needs lvs_sched sh/],
    ['ping checker', 'virtual_server 10.0.0.1 80 {\nprotocol TCP\nreal_server 10.0.1.1 80 {\n  PING_CHECK {\n  }\n}\n}\n', 4, /ping proves only the IP layer/],
    ['connect_ip elsewhere', 'virtual_server 10.0.0.1 80 {\nprotocol TCP\nreal_server 10.0.1.1 80 {\n TCP_CHECK {\n  connect_ip 10.9.9.9\n }\n}\n}\n', 5, /connect_ip 10\.9\.9\.9 is not the real server's address/],
    ['unclosed block', 'virtual_server 10.0.0.1 80 {\nprotocol TCP\n', 1, /never closed/],
    ['stray brace', '}\n', 1, /unexpected }/],
    ['notify script', 'virtual_server 10.0.0.1 80 {\nprotocol TCP\nreal_server 10.0.1.1 80 {\n notify_down /bin/page-me\n}\n}\n', 4, /notify scripts are not run/],
    ['include without reader', 'include /etc/keepalived/other.conf\n', 1, /includes cannot be read here/],
    ['unknown group', 'virtual_server group NOPE {\n}\n', 1, /virtual_server_group 'NOPE' is not defined/],
    ['ops on TCP (schema rule)', 'virtual_server 10.0.0.1 80 {\nprotocol TCP\nops\nreal_server 10.0.1.1 80 {\n}\n}\n', 1, /TCP 10\.0\.0\.1:80: .*one-packet/i],
    ['HTTP check on port 0', 'virtual_server fwmark 3 {\nlvs_method DR\nreal_server 10.0.1.1 0 {\n TCP_CHECK {\n }\n}\n}\n', 1, /port 0: a TCP check needs a connect port/],
  ];
  for (const [name, text, line, re] of cases) {
    it(name, () => {
      const r = parseKeepalived(text, { file: 'k.conf' });
      expect(r.services).toEqual([]);
      expect(r.health).toEqual([]);
      const hit = r.errors.find((e) => re.test(e.message));
      expect(hit, JSON.stringify(r.errors)).toBeDefined();
      expect(hit!.line).toBe(line);
      expect(hit!.file).toBe('k.conf');
    });
  }
});

describe('export', () => {
  it('writes configured weights and removed servers from the health config, and skips empty services', () => {
    const r = parseFile('06-sip-persistence.conf');
    const live = r.services.map((s) => ({ ...s, destinations: s.destinations.filter((d) => d.address !== '10.20.0.2').map((d) => ({ ...d, weight: 0 })) }));
    const empty = { ...r.services[0]!, key: { ...r.services[0]!.key, port: 5061 }, destinations: [] };
    const out = formatKeepalived([...live, empty], r.health);
    expect(out.skipped).toEqual(['UDP 198.51.100.5:5061: no real servers (keepalived cannot express an empty virtual_server)']);
    const back = parseKeepalived(out.text);
    expect(back.errors).toEqual([]);
    expect(back.services).toEqual(r.services);
  });
});

describe('JSON snapshots carry the health section', () => {
  it('round-trips through readSnapshotJson, and old snapshots without it still read', async () => {
    const r = parseFile('01-reference-example.conf');
    const snap = makeSnapshot(r.services, { host: 'lvs1', ipvsVersion: '1.2.1', health: r.health });
    const back = readSnapshotJson(stringifySnapshot(snap));
    expect(back.ok && back.snapshot.health).toEqual(r.health);
    const old = readSnapshotJson(stringifySnapshot(makeSnapshot(r.services, { host: 'lvs1', ipvsVersion: '1.2.1' })));
    expect(old.ok && old.snapshot.health).toBeUndefined();
    const bad = JSON.parse(stringifySnapshot(snap));
    bad.health[0].timing.delayLoop = -1;
    const rejected = readSnapshotJson(JSON.stringify(bad));
    expect(rejected.ok).toBe(false);
    expect(!rejected.ok && rejected.errors[0]!.path).toBe('health.0.timing.delayLoop');
  });
});
