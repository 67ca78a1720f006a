/**
 * Every fault the lab's switch offers (FAULTS, fault.sh), seen from the
 * client's side: the seed's topology is built in this lab kernel, each fault
 * is switched on for rs2, the client namespace sends requests to the VIP
 * (DR :80, NAT :8080) and straight to rs2, and sees what the seed says it
 * should; switched off, every request is answered again by both servers.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULTS, LAB_TOPOLOGY, type Fault } from '@/lib/lab/topology';

const GUEST = import.meta.dirname;
const STATE = '/tmp/lab-faults-test';
const env = { ...process.env, DIRECTOR_LAB_STATE: STATE };
const VIP = LAB_TOPOLOGY.vip;
const [RS1, RS2] = LAB_TOPOLOGY.realServers.map((r) => r.address) as [string, string];
const { dr: DR_PORT, nat: NAT_PORT, tun: TUN_PORT } = LAB_TOPOLOGY.ports;

const bash = (args: string[]) => execFileSync('bash', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** One line per request from probe.pl: "ok from ADDRESS", "refused", "timeout", "reset", "error ...". */
function probe(address: string, port: number, count: number, timeoutS = 1): string[] {
  return execFileSync('ip', ['netns', 'exec', 'client', 'perl', path.join(GUEST, 'probe.pl'), address, String(port), String(count), String(timeoutS)],
    { encoding: 'utf8' }).trim().split('\n');
}

/** The MAC address the client would send a packet for the VIP to. */
const clientMacForVip = () => /lladdr (\S+)/.exec(execFileSync('ip', ['-n', 'client', 'neigh', 'show', VIP], { encoding: 'utf8' }))?.[1] ?? null;
const macOf = (ns: string) => /link\/ether (\S+)/.exec(execFileSync('ip', ['-n', ns, 'link', 'show', 'eth0'], { encoding: 'utf8' }))![1]!;

const ok = (server: string) => `ok from ${server}`;
const failed = (lines: string[]) => lines.filter((l) => !l.startsWith('ok from '));

/** Both real servers answer every request, in turn. */
function expectHealthy(lines: string[]): void {
  expect(failed(lines)).toEqual([]);
  expect(lines).toContain(ok(RS1));
  expect(lines).toContain(ok(RS2));
}

/** rs1 answers its turns; rs2's turns all fail the way `why` says. */
function expectRs2Fails(lines: string[], why: RegExp): void {
  expect(lines).not.toContain(ok(RS2));
  expect(lines.filter((l) => l === ok(RS1)).length).toBeGreaterThanOrEqual(2);
  expect(failed(lines).length).toBeGreaterThanOrEqual(2);
  for (const l of failed(lines)) expect(l).toMatch(why);
}

/** What the client sees while each fault is on for rs2 (a new fault without an entry fails the type check). */
const BROKEN: Record<Fault, () => void> = {
  // its web server is gone: rs2's turns are refused, and so is a request straight to it (a health check)
  'stop-httpd': () => {
    expect(probe(RS2, DR_PORT, 1)).toEqual(['refused']);
    expectRs2Fails(probe(VIP, DR_PORT, 4), /^refused$/);
    expectRs2Fails(probe(VIP, NAT_PORT, 4), /^refused$/);
  },
  // DR packets for the VIP reach rs2, which no longer owns it and drops them; NAT rewrites to the RIP and still works
  'remove-vip': () => {
    expect(probe(RS2, DR_PORT, 1)).toEqual([ok(RS2)]);
    expectRs2Fails(probe(VIP, DR_PORT, 4), /^(timeout|error .*)$/);
    expectHealthy(probe(VIP, NAT_PORT, 4));
  },
  // rs2 announces the VIP with its own MAC: once it has answered once, the client sends everything for the VIP
  // straight to rs2, past the director (no more rs1), and rs2 has nothing on the NAT port
  'break-arp': () => {
    const dr = probe(VIP, DR_PORT, 6);
    expect(dr.slice(2)).toEqual(Array(4).fill(ok(RS2)));
    expect(clientMacForVip()).toBe(macOf('rs2'));
    expect(probe(VIP, NAT_PORT, 2)).toEqual(['refused', 'refused']);
  },
  // rs2's NAT replies go straight to the client from the RIP, which the client does not expect: its turns time out
  'remove-nat-route': () => {
    expectHealthy(probe(VIP, DR_PORT, 4));
    expectRs2Fails(probe(VIP, NAT_PORT, 4), /^(timeout|reset)$/);
  },
  // strict rp_filter: packets decapsulated on tunl0 come from a client rs2 routes via eth0, so it drops them; DR still works
  'strict-rp-filter': () => {
    expectHealthy(probe(VIP, DR_PORT, 4));
    expectRs2Fails(probe(VIP, TUN_PORT, 4), /^(timeout|error .*)$/);
  },
};

function teardown(): void {
  bash(['-c', `source ${path.join(GUEST, 'common.sh')}; for rs in $RS_NAMES; do stop_httpd $rs; done
    for ns in client $RS_NAMES; do ip netns del $ns 2>/dev/null; done
    ip link del br0 2>/dev/null; ipvsadm -C; echo 0 >/proc/sys/net/ipv4/ip_forward; rm -rf ${STATE}; true`]);
}

describe('lab faults, seen from the client', () => {
  beforeAll(() => {
    teardown(); // what a run that died here may have left in this shared kernel
    bash([path.join(GUEST, 'topology.sh')]);
    // the web servers were started in the background: wait until both listen
    for (let i = 0; i < 50 && failed([...probe(RS1, DR_PORT, 1), ...probe(RS2, DR_PORT, 1)]).length > 0; i++) execFileSync('sleep', ['0.2']);
    expectHealthy(probe(VIP, DR_PORT, 2));
    expectHealthy(probe(VIP, NAT_PORT, 2));
  });
  afterAll(teardown);

  it.each(FAULTS)('%s on rs2 breaks what the seed says, and off repairs it', (fault) => {
    expect(bash([path.join(GUEST, 'fault.sh'), 'rs2', fault, 'on'])).toContain(`rs2 ${fault} on`);
    BROKEN[fault]();
    bash([path.join(GUEST, 'fault.sh'), 'rs2', fault, 'off']);
    expect(probe(RS2, DR_PORT, 1)).toEqual([ok(RS2)]);
    expectHealthy(probe(VIP, DR_PORT, 4));
    expectHealthy(probe(VIP, NAT_PORT, 4));
  });
});
