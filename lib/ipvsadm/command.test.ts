import { describe, expect, it } from 'vitest';
import { formatCommandError, parseIpvsadmArgs, type CommandError, type IpvsadmCommand } from './command';

const parse = (line: string) => parseIpvsadmArgs(line.split(' ').filter(Boolean));
async function ok(line: string): Promise<IpvsadmCommand> {
  const r = await parse(line);
  if (!('kind' in r)) throw new Error(`refused: ${formatCommandError(r)}`);
  return r;
}
async function refused(line: string): Promise<CommandError> {
  const r = await parse(line);
  if ('kind' in r) throw new Error(`accepted: ${JSON.stringify(r)}`);
  return r;
}

describe('ipvsadm command lines', () => {
  it('reads -A with ipvsadm defaults and -E as a whole replacement', async () => {
    expect(await ok('-A -t 10.0.0.1:80 -s rr')).toEqual({
      kind: 'add-service',
      spec: {
        key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler: 'rr',
        flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false },
        timeout: 0, netmask: '255.255.255.255', pe: null,
      },
    });
    const e = await ok('-E -t 10.0.0.1:80 -p');
    expect(e).toMatchObject({ kind: 'edit-service', spec: { scheduler: 'wlc', timeout: 360, flags: { persistent: true } } });
  });

  it('bundles short options and attaches values like popt', async () => {
    expect(await ok('-Lcn')).toMatchObject({ kind: 'list', view: 'connections' });
    expect(await ok('-At 10.0.0.1:80 -srr')).toMatchObject({ kind: 'add-service', spec: { scheduler: 'rr' } });
    expect(await ok('-Ln --stats --exact')).toMatchObject({ kind: 'list', view: 'table', format: 'stats', exact: true });
    expect(await ok('-l -n --rate')).toMatchObject({ kind: 'list', format: 'rate' });
    expect(await ok('-L -n -t 10.0.0.1:80')).toMatchObject({ kind: 'list', service: { port: 80 } });
    expect(await ok('-Sn')).toEqual({ kind: 'save' });
  });

  it('reads real servers: default DR takes the service port, -d names one', async () => {
    expect(await ok('-a -t 10.0.0.1:80 -r 192.168.1.10:8080')).toMatchObject({
      kind: 'add-server', destination: { address: '192.168.1.10', port: 80, forward: 'dr', weight: 1 },
    });
    expect(await ok('-e -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 5 -x 100 -y 50')).toMatchObject({
      kind: 'edit-server', destination: { port: 8080, forward: 'nat', weight: 5, upperThreshold: 100, lowerThreshold: 50 },
    });
    expect(await ok('-d -t 10.0.0.1:80 -r 192.168.1.10:8080')).toEqual({
      kind: 'delete-server', service: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 },
      destination: { family: 'inet', address: '192.168.1.10', port: 8080 },
    });
    expect(await ok('-a -t [2001:db8::1]:80 -r 192.168.1.40 -i --tun-type gue --tun-port 6080 --tun-csum')).toMatchObject({
      destination: { forward: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'csum' } },
    });
  });

  it('reads -Z, -C, --set and the sync daemon commands', async () => {
    expect(await ok('-Z')).toEqual({ kind: 'zero' });
    expect(await ok('-Z -f 7')).toEqual({ kind: 'zero', service: { kind: 'fwmark', family: 'inet', fwmark: 7 } });
    expect(await ok('-C')).toEqual({ kind: 'clear' });
    expect(await ok('--set 900 0 300')).toEqual({ kind: 'set-timeouts', timeouts: { tcp: 900, tcpFin: 0, udp: 300 } });
    expect(await ok('--start-daemon master --mcast-interface eth1 --syncid 7')).toEqual({
      kind: 'start-daemon', config: { state: 'master', interface: 'eth1', syncId: 7 },
    });
    expect(await ok('--start-daemon=backup --mcast-interface lo --syncid 3 --mcast-port 9000 --mcast-ttl 2')).toEqual({
      kind: 'start-daemon', config: { state: 'backup', interface: 'lo', syncId: 3, port: 9000, ttl: 2 },
    });
    expect(await ok('--stop-daemon backup')).toEqual({ kind: 'stop-daemon', state: 'backup' });
    expect(await ok('-L --daemon')).toMatchObject({ kind: 'list', view: 'daemon' });
    expect(await ok('-L --timeout')).toMatchObject({ kind: 'list', view: 'timeout' });
  });

  it.each([
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -w 70000000000', '-w 70000000000', /weight/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -w x', '-w x', /weight 'x' is not a number/],
    ['-A -t 10.0.0.1:80 -s nosuch', '-s nosuch', /unknown scheduler 'nosuch'/],
    ['-A -t 10.0.0.1:80 -n', '-n', /not allowed with -A/],
    ['-A -t 10.0.0.300:80', '-t 10.0.0.300:80', /cannot resolve host name '10.0.0.300'/],
    ['-a -t 10.0.0.1:80 -r 10.0.0.2 -g --tun-type gue', '--tun-type gue', /tunnel options need -i/],
    ['--set 900 120', '--set', /needs 3 timeout values/],
    ['--set 900 x 300', '--set x', /tcpfin timeout 'x'/],
    ['--start-daemon leader', '--start-daemon leader', /master or backup/],
    ['--start-daemon master --syncid 300', '--syncid 300', /sync id 300 out of range 0..255/],
    ['--start-daemon master --mcast-interface a/b', '--mcast-interface a/b', /interface name/],
    ['--start-daemon master --mcast-group 10.0.0.1', '--mcast-group 10.0.0.1', /not a multicast address/],
    ['-Lc --stats', '--stats', /conflicts/],
    ['-L -c -t 10.0.0.1:80', '-t 10.0.0.1:80', /conflicts with '-c'/],
    ['-t 10.0.0.1:80 -A', '-t', /first option must be a command/],
    ['-A -D -t 10.0.0.1:80', '-D', /one command/],
    ['-Lq', '-Lq', /unknown option '-q'/],
    ['-A -t 10.0.0.1:0 -s rr', undefined, /zero port/],
  ])('%s is refused naming %s', async (line, option, why) => {
    const e = await refused(line);
    expect(e.option).toBe(option);
    expect(e.message).toMatch(why);
    if (option) expect(formatCommandError(e).startsWith(`${option}: `)).toBe(true);
  });

  it('takes each argv word whole: no splitting, no shell', async () => {
    // a value with a space and shell syntax is one (bad) address, not two words or a command
    const e = await parseIpvsadmArgs(['-A', '-t', '10.0.0.1:80 ; rm -rf /', '-s', 'rr']);
    expect('kind' in e).toBe(false);
    expect((e as CommandError).option).toBe('-t 10.0.0.1:80 ; rm -rf /');
  });
});
