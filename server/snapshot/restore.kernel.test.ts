/**
 * director save/restore against the real kernel, side by side with ipvsadm.
 *
 *   ipvsadm -R < file  ──►  kernel  ──►  ipvsadm -Sn, ipvsadm -Ln --thresholds  (A)
 *   director restore file ──► kernel ──►  ipvsadm -Sn, ipvsadm -Ln --thresholds  (B)      A must equal B
 *
 * Every test starts from an empty table (ipvsadm -C) and leaves one.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../cli/io';
import { restoreCommand } from './restore-command';
import { saveCommand } from './save-command';

const corpusDir = path.join(import.meta.dirname, 'corpus');
const work = mkdtempSync(path.join(tmpdir(), 'snap-'));

function ipvsadm(args: string[], input?: string): string {
  return execFileSync('ipvsadm', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}
/** What an operator sees: the save text and the listing with thresholds. */
function table(): string {
  return ipvsadm(['-Sn']) + '\n----\n' + ipvsadm(['-Ln', '--thresholds']);
}
function file(name: string, text: string): string {
  const p = path.join(work, name);
  writeFileSync(p, text);
  return p;
}
async function director(cmd: 'restore' | 'save', args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const io: CliIo = { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, readStdin: async () => stdin };
  const code = await (cmd === 'restore' ? restoreCommand(args, io) : saveCommand(args, io));
  return { code, out, err };
}

beforeEach(() => { ipvsadm(['-C']); });
afterEach(() => { ipvsadm(['-C']); });

const corpus = readdirSync(corpusDir).filter((f) => f.endsWith('.txt')).sort();

describe('corpus: director restore gives exactly the table ipvsadm -R gives', () => {
  it.each(corpus)('%s', async (name) => {
    const text = readFileSync(path.join(corpusDir, name), 'utf8');
    ipvsadm(['-R'], text);
    const expected = table();
    expect(expected.length).toBeGreaterThan(20);
    ipvsadm(['-C']);
    const r = await director('restore', [path.join(corpusDir, name)]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(table()).toBe(expected);
    // the fast save (/proc + one service dump, GET_DEST only for tunnel services) prints what ipvsadm -Sn prints
    expect((await director('save', ['--no-thresholds'])).out).toBe(ipvsadm(['-Sn']));
    // idempotence: the same file again is an empty plan and leaves the table alone
    const again = await director('restore', [path.join(corpusDir, name)]);
    expect(again).toEqual({ code: 0, out: 'no changes: the table already matches\n', err: '' });
    expect(table()).toBe(expected);
  });

  it('thresholds (-x/-y, dropped by ipvsadm -S) restore like ipvsadm -R and survive director save', async () => {
    const text = '-A -t 10.1.0.1:80 -s wlc\n-a -t 10.1.0.1:80 -r 10.1.1.1:80 -m -w 3 -x 1000 -y 800\n-a -t 10.1.0.1:80 -r 10.1.1.2:80 -m -w 1 -x 5\n';
    ipvsadm(['-R'], text);
    const expected = table();
    expect(expected).toMatch(/10\.1\.1\.1:80\s+1000\s+800/);
    ipvsadm(['-C']);
    expect((await director('restore', [file('thr.txt', text)])).code).toBe(0);
    expect(table()).toBe(expected);
    expect((await director('save', [])).out).toBe(text);
  });
});

describe('modes and dry run', () => {
  const base = '-A -t 10.2.0.1:80 -s rr\n-a -t 10.2.0.1:80 -r 10.2.1.1:80 -m -w 1\n-a -t 10.2.0.1:80 -r 10.2.1.2:80 -m -w 1\n-A -u 10.2.0.9:53 -s wlc\n';
  const want = '-A -t 10.2.0.1:80 -s wrr -p 60\n-a -t 10.2.0.1:80 -r 10.2.1.1:80 -m -w 5\n-a -t 10.2.0.1:80 -r 10.2.1.3:80 -m -w 1\n-A -f 5 -s sh -b sh-port\n';

  it('merge makes the file\'s services exact and leaves others; replace makes the table the file', async () => {
    ipvsadm(['-R'], base);
    const f = file('want.txt', want);
    expect((await director('restore', [f])).code).toBe(0);
    expect(ipvsadm(['-Sn'])).toBe(want.split('\n').slice(0, 3).join('\n') + '\n-A -u 10.2.0.9:53 -s wlc\n-A -f 5 -s sh -b sh-port\n');
    ipvsadm(['-C']);
    ipvsadm(['-R'], base);
    expect((await director('restore', ['--replace', f])).code).toBe(0);
    expect(ipvsadm(['-Sn'])).toBe(want);
  });

  it('--dry-run prints the diff and changes nothing', async () => {
    ipvsadm(['-R'], base);
    const before = table();
    const r = await director('restore', ['--dry-run', '--replace', file('want2.txt', want)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('~ -A -t 10.2.0.1:80 -s wrr -p 60');
    expect(r.out).toContain('+ -A -f 5 -s sh -b sh-port');
    expect(r.out).toContain('- -a -t 10.2.0.1:80 -r 10.2.1.2:80 -m -w 1');
    expect(r.out).toContain('- -A -u 10.2.0.9:53 -s wlc');
    expect(r.out).toMatch(/^2 to add, 2 to change, 2 to remove$/m);
    expect(table()).toBe(before);
  });

  it('reads stdin when no file is given', async () => {
    const r = await director('restore', [], '-A -t 10.3.0.1:80 -s rr\n');
    expect(r.code).toBe(0);
    expect(ipvsadm(['-Sn'])).toBe('-A -t 10.3.0.1:80 -s rr\n');
  });
});

/** A mixed table: every option kind, addresses spread over the whole space (to hit ipvsadm's sort quirks). */
function bigTable(n: number, seed: number): string {
  let x = seed;
  const rnd = (m: number) => { x = (x * 1103515245 + 12345) % 2147483648; return x % m; };
  const lines: string[] = [];
  const scheds = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sed', 'nq', 'fo', 'ovf'];
  for (let i = 0; i < n; i++) {
    const kind = i % 10;
    const a = `${1 + (i * 37) % 223}.${(i >> 8) & 255}.${i & 255}.${1 + rnd(250)}`;
    let svc: string;
    let head: string;
    if (kind === 7) { svc = `-f ${1000 + i}`; head = `-A ${svc} -s wrr -p ${1 + rnd(3600)}`; }
    else if (kind === 8) { svc = `-f ${1000 + i} -6`; head = `-A ${svc} -s lc -p 100 -M ${1 + rnd(128)}`; }
    else if (kind === 9) { svc = `-t [2001:db8:${i.toString(16)}::${(1 + rnd(65535)).toString(16)}]:${1 + rnd(65535)}`; head = `-A ${svc} -s mh -b mh-port`; }
    else if (kind === 6) { svc = `-u ${a}:${1 + rnd(65535)}`; head = `-A ${svc} -s wlc -o`; }
    else if (kind === 5) { svc = `--sctp-service ${a}:${1 + rnd(65535)}`; head = `-A ${svc} -s nq`; }
    else if (kind === 4) { svc = `-t ${a}:${1 + rnd(65535)}`; head = `-A ${svc} -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port`; }
    else if (kind === 3) { svc = `-u ${a}:5060`; head = `-A ${svc} -s rr -p 30 --pe sip`; }
    else { svc = `-t ${a}:${1 + rnd(65535)}`; head = `-A ${svc} -s ${scheds[rnd(scheds.length)]}`; }
    lines.push(head);
    const v6svc = kind === 8 || kind === 9;
    for (let j = 0; j < 3; j++) {
      const ra = `${1 + rnd(223)}.${rnd(256)}.${rnd(256)}.${1 + rnd(250)}`;
      const d = rnd(5);
      if (v6svc && d < 2) lines.push(`-a ${svc} -r [fd00::${(i * 3 + j).toString(16)}]:${kind === 8 ? 0 : 8080} -m -w ${rnd(100)}`);
      else if (d === 0 || v6svc) lines.push(`-a ${svc} -r ${ra} -i -w ${rnd(10)} --tun-type ${['ipip', 'gre --tun-csum', 'gue --tun-port 6080 --tun-remcsum'][rnd(3)]}`);
      else if (d === 1) lines.push(`-a ${svc} -r ${ra} -g -w ${rnd(10)}`);
      else lines.push(`-a ${svc} -r ${ra}:${1 + rnd(65535)} -m -w ${rnd(1000)}`);
    }
  }
  return lines.join('\n') + '\n';
}

describe('large tables', () => {
  it('director save equals ipvsadm -Sn on a mixed table of 600 services (as lines, and in order)', async () => {
    ipvsadm(['-R'], bigTable(600, 7));
    const expected = ipvsadm(['-Sn']);
    expect(expected.split('\n').filter((l) => l.startsWith('-A'))).toHaveLength(600);
    const saved = (await director('save', [])).out;
    expect([...saved.split('\n')].sort()).toEqual([...expected.split('\n')].sort());
    expect(saved).toBe(expected);
    expect((await director('save', ['--no-thresholds'])).out).toBe(expected);
    const json = await director('save', ['--json']);
    expect(JSON.parse(json.out)).toMatchObject({ version: 1, ipvs: { version: '1.2.1' } });
    expect(JSON.parse(json.out).services).toHaveLength(600);
  });

  it('rolls back a large restore when the kernel refuses a line in the middle: the table is byte-identical', async () => {
    const live = bigTable(150, 3);
    ipvsadm(['-R'], live);
    const before = table();
    // same services changed (updates), plus 300 new ones, with an unknown persistence engine on line ~600
    const changed = live.replace(/ -w (\d+)/g, (_m, w: string) => ` -w ${Number(w) + 1}`).replace(/-s rr -p 30/g, '-s wrr -p 31');
    const fresh = bigTable(300, 11).replace(/10\.|\b1\./g, (m) => m).split('\n').filter((l) => l !== '');
    const extra = fresh.map((l) => l.replace(/^(-[Aa] -t |-[Aa] -u |-[Aa] --sctp-service )(\d+)\./, (_m, p: string, o: string) => `${p}${(Number(o) % 200) + 1}.`))
      .map((l) => l.replace(/-f (\d+)/g, (_m, f: string) => `-f ${Number(f) + 100000}`));
    const mid = Math.floor(extra.length / 2);
    while (!extra[mid]!.startsWith('-A')) extra.splice(mid, 1);
    extra.splice(mid, 0, '-A -u 10.250.0.1:5061 -s rr -p 30 --pe nosuchpe');
    const text = changed + extra.join('\n') + '\n';
    const badLine = text.split('\n').indexOf('-A -u 10.250.0.1:5061 -s rr -p 30 --pe nosuchpe') + 1;
    expect(badLine).toBeGreaterThan(500);
    const r = await director('restore', ['--replace', file('big.txt', text)]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^${path.join(work, 'big.txt').replace(/[.]/g, '\\.')}:${badLine}: the kernel refused '-A -u 10\\.250\\.0\\.1:5061 -s rr -p 30 --pe nosuchpe'`));
    expect(r.err).toMatch(/operation\(s\) already applied were undone, the table is unchanged/);
    const undone = Number(/the (\d+) operation/.exec(r.err)![1]);
    expect(undone).toBeGreaterThan(400);
    expect(table()).toBe(before);
  });
});

describe('malformed files are refused with the right line and the table is untouched', () => {
  const good = '-A -t 10.5.0.1:80 -s rr\n-a -t 10.5.0.1:80 -r 10.5.1.1:80 -m -w 1\n';
  const cases: [string, string, number][] = [
    ['unknown scheduler', `${good}-A -t 10.5.0.2:80 -s fastest\n`, 3],
    ['bad address', `${good}-a -t 10.5.0.1:80 -r 10.5.1.300:80 -m\n`, 3],
    ['port out of range', `-A -t 10.5.0.3:65536 -s rr\n${good}`, 1],
    ['destination of an undefined service', `${good}\n-a -t 10.5.0.9:80 -r 10.5.1.1:80 -m\n`, 4],
    ['address family mix', `${good}-a -t 10.5.0.1:80 -r [fd00::1]:80 -m\n`, 3],
    ['negative weight', `${good}-a -t 10.5.0.1:80 -r 10.5.1.2:80 -m -w -1\n`, 3],
    ['bad persistence value', `-A -t 10.5.0.4:80 -s rr -p 0\n${good}`, 1],
    ['unknown option', `${good}-A -t 10.5.0.5:80 -s rr -z\n`, 3],
    ['duplicate service', `${good}# again\n-A -t 10.5.0.1:80 -s wrr\n`, 4],
    ['random bytes', `${good}\u0000\u00ff\u0013\u0007garbage\n`, 3],
  ];
  it.each(cases)('%s', async (_name, text, line) => {
    ipvsadm(['-R'], '-A -t 10.6.0.1:80 -s rr\n');
    const before = table();
    const f = file('bad.txt', text);
    const r = await director('restore', [f]);
    expect(r.code).toBe(1);
    expect(r.err.split('\n')[0]).toMatch(new RegExp(`^${f.replace(/[.]/g, '\\.')}:${line}: \\S`));
    expect(r.err).toMatch(/nothing was changed/);
    expect(table()).toBe(before);
  });
});
