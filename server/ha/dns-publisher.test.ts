/**
 * The DNS publisher against a real dnsmasq on 127.0.0.1 (Debian's dnsmasq-base; skipped loudly without it):
 * records regenerated, SIGHUP, the name answering the new VIPs; and a pid file naming another process is
 * refused without signalling it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haDnsSchema } from '@/lib/schemas/ha';
import { DnsPublisher, dnsServerPid } from './dns-publisher';

const DNSMASQ = '/usr/sbin/dnsmasq';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(path.join(tmpdir(), 'dns-publisher-'));
const cfg = (o: object = {}) => haDnsSchema.parse({
  name: 'www.director.test', server: '127.0.0.1', hostsFile: path.join(dir, 'hosts'), pidFile: path.join(dir, 'dnsmasq.pid'), ...o,
});

async function until<T>(fn: () => T | null | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('not within time');
    await sleep(50);
  }
}

describe('dnsServerPid and the signal', () => {
  it('refuses a pid file naming a process that is not dnsmasq, and does not signal it', async () => {
    // SIGHUP would end `sleep`: it must still run afterwards
    const victim = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pidFile = path.join(dir, 'victim.pid');
      writeFileSync(pidFile, `${victim.pid}\n`);
      await expect(dnsServerPid(pidFile)).rejects.toThrow(`process ${victim.pid} is 'sleep', not dnsmasq: not signalled`);
      const p = new DnsPublisher(cfg({ pidFile, hostsFile: path.join(dir, 'victim-hosts'), port: 1 }));
      expect(await p.publish(['192.168.150.100'])).toBeNull();
      expect(p.state.error).toContain("is 'sleep', not dnsmasq");
      await sleep(200);
      expect(victim.exitCode).toBeNull();
      expect(victim.signalCode).toBeNull();
      p.close();
    } finally {
      victim.kill('SIGKILL');
    }
  });

  it('refuses pid files without a plain pid', async () => {
    for (const [text, why] of <[string, string][]>[['', 'holds no pid'], ['1', 'holds no pid'], ['12 13', 'holds no pid'], ['-5', 'holds no pid'], ['999999999', 'no process']]) {
      const f = path.join(dir, 'bad.pid');
      writeFileSync(f, text);
      await expect(dnsServerPid(f)).rejects.toThrow(why);
    }
  });
});

describe.skipIf(!existsSync(DNSMASQ) || process.getuid?.() !== 0)('DnsPublisher with a real dnsmasq', () => {
  let pid = 0;
  const port = 20_000 + (process.pid % 20_000);
  beforeAll(async () => {
    writeFileSync(path.join(dir, 'hosts'), '');
    // it writes its pid file only when it goes into the background (not with -k)
    const r = spawnSync(DNSMASQ, ['-C', '/dev/null', '--no-resolv', '--no-hosts', `--addn-hosts=${path.join(dir, 'hosts')}`,
      '--listen-address=127.0.0.1', '--bind-interfaces', `--port=${port}`, `--pid-file=${path.join(dir, 'dnsmasq.pid')}`,
      '--local=/director.test/', '--local-ttl=1', '--user=root'], { stdio: 'ignore' });
    expect(r.status).toBe(0);
    pid = Number(await until(() => existsSync(path.join(dir, 'dnsmasq.pid')) && readFileSync(path.join(dir, 'dnsmasq.pid'), 'utf8').trim()));
  });
  afterAll(() => { if (pid) process.kill(pid); });

  it('writes the records, signals dnsmasq, and the name answers the new VIPs', async () => {
    const p = new DnsPublisher(cfg({ port }));
    expect(await p.publish(['192.168.150.100', '192.168.150.101'])).toEqual([]);
    await until(() => { p.resolveSoon(); return p.state.resolved?.length === 2 && p.state.resolved; });
    expect(p.state.resolved).toEqual(['192.168.150.100', '192.168.150.101']);
    // a director in maintenance: its VIP leaves the answer
    await sleep(1100);
    expect(await p.publish(['192.168.150.101'])).toEqual(['192.168.150.100', '192.168.150.101']);
    await until(() => { p.resolveSoon(); return p.state.resolved?.length === 1 && p.state.resolved; });
    expect(p.state.resolved).toEqual(['192.168.150.101']);
    expect(p.state.error).toBeNull();
    // the same answer again writes nothing
    expect(await p.publish(['192.168.150.101'])).toBeNull();
    // no master anywhere: the name resolves to nothing
    await sleep(1100);
    await p.publish([]);
    await until(() => { p.resolveSoon(); return p.state.resolved?.length === 0 && p.state.resolved; });
    p.close();
  });
});
