/**
 * Behaviour every IpvsBackend must show, written from what the kernel does
 * (reference ipvs-netlink.md §6). Run against the real kernel in the lab by
 * the netlink client's tests, and against the in-memory fake by fake.test.ts.
 * Where the two disagree, the kernel is right and the fake gets fixed.
 *
 * Uses documentation (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32) and
 * private addresses; nothing here sends a packet.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PLAIN_SERVICE_COLS, type IpvsBackend } from '@/lib/ipvs/backend';
import { isIpvsError, type IpvsErrorCode } from '@/lib/ipvs/errors';
import {
  DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceKey, type ServiceSpec,
} from '@/lib/ipvs/model';

const VIP: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 };
const VIP6: ServiceKey = { kind: 'addr', family: 'inet6', protocol: 'tcp', address: '2001:db8::10', port: 443 };
const FWM: ServiceKey = { kind: 'fwmark', family: 'inet', fwmark: 7 };

function svc(key: ServiceKey, over: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    key, scheduler: 'wlc', flags: { ...DEFAULT_FLAGS }, timeout: 0,
    netmask: key.family === 'inet' ? '255.255.255.255' : '128', pe: null, ...over,
  };
}

function dest(address: string, over: Partial<DestinationSpec> = {}): DestinationSpec {
  return {
    family: address.includes(':') ? 'inet6' : 'inet', address, port: 80, forward: 'nat', weight: 1,
    upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL }, ...over,
  };
}

async function rejectsWith(p: Promise<unknown>, code: IpvsErrorCode): Promise<void> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e, `expected IpvsError ${code}, but the call succeeded`).not.toBeNull();
  expect(isIpvsError(e), `expected IpvsError ${code}, got ${String(e)}`).toBe(true);
  expect((e as { code: string }).code).toBe(code);
}

export function ipvsContract(name: string, make: () => Promise<IpvsBackend>): void {
  describe(`IpvsBackend contract: ${name}`, () => {
    let b: IpvsBackend;
    beforeEach(async () => {
      b = await make();
      await b.flush();
    });
    afterEach(async () => {
      await b.flush();
      b.close();
    });

    it('reports IPVS version and connection table size', async () => {
      const i = await b.info();
      expect(i.versionCode).toBeGreaterThan(0);
      expect(i.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(i.connTableSize).toBeGreaterThan(0);
    });

    it('creates, reads back and removes a service', async () => {
      await b.addService(svc(VIP, { scheduler: 'rr' }));
      const got = await b.getService(VIP);
      expect(got.key).toEqual(VIP);
      expect(got.scheduler).toBe('rr');
      expect(got.flags.persistent).toBe(false);
      expect(got.stats.conns).toBe(0);
      expect((await b.listServices()).map((s) => s.key)).toEqual([VIP]);
      await b.removeService(VIP);
      expect(await b.listServices()).toEqual([]);
    });

    it('keeps IPv6 and fwmark services apart from IPv4 address services', async () => {
      await b.addService(svc(VIP));
      await b.addService(svc(VIP6));
      await b.addService(svc(FWM));
      await b.addService(svc({ ...FWM, family: 'inet6' }));
      const keys = (await b.listServices()).map((s) => s.key);
      expect(keys).toHaveLength(4);
      expect(keys).toContainEqual(VIP6);
      expect(keys).toContainEqual({ ...FWM, family: 'inet6' });
    });

    it('refuses a duplicate service with service_exists and keeps the first', async () => {
      await b.addService(svc(VIP, { scheduler: 'rr' }));
      await rejectsWith(b.addService(svc(VIP, { scheduler: 'wrr' })), 'service_exists');
      expect((await b.getService(VIP)).scheduler).toBe('rr');
    });

    it('answers service_not_found for get, update, remove and zero of a missing service', async () => {
      await rejectsWith(b.getService(VIP), 'service_not_found');
      await rejectsWith(b.updateService(svc(VIP)), 'service_not_found');
      await rejectsWith(b.removeService(VIP), 'service_not_found');
      await rejectsWith(b.zero(VIP), 'service_not_found');
      await rejectsWith(b.addDestination(VIP, dest('10.0.0.1')), 'service_not_found');
    });

    it('lists no destinations (not an error) for a missing service', async () => {
      expect(await b.listDestinations(VIP)).toEqual([]);
    });

    it('refuses an unknown scheduler with unknown_scheduler and creates nothing', async () => {
      await rejectsWith(b.addService(svc(VIP, { scheduler: 'nosuchsched' })), 'unknown_scheduler');
      expect(await b.listServices()).toEqual([]);
    });

    it('replaces every attribute on update (SET_SERVICE semantics)', async () => {
      await b.addService(svc(VIP, { scheduler: 'wlc', flags: { ...DEFAULT_FLAGS, persistent: true }, timeout: 300 }));
      await b.updateService(svc(VIP, { scheduler: 'rr' }));
      const got = await b.getService(VIP);
      expect(got.scheduler).toBe('rr');
      expect(got.flags.persistent).toBe(false);
    });

    it('leaves out of listServiceSpecsBeyond exactly the services that are what it was told', async () => {
      const other: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.0.2.11', port: 80 }, wrr: ServiceKey = { ...other, address: '192.0.2.12' };
      await b.addService(svc(VIP, { scheduler: 'rr' }));
      await b.addService(svc(other, { scheduler: 'sh', flags: { ...DEFAULT_FLAGS, sched1: true } }));
      await b.addService(svc(wrr, { scheduler: 'wrr' }));
      await b.addService(svc(VIP6, { scheduler: 'rr' }));
      const listed = await b.listServiceSpecs();
      // each told as what it is, but as a plain IPv4 TCP service and with rr as its scheduler
      const cols = new Int32Array(listed.length * PLAIN_SERVICE_COLS);
      listed.forEach((s, i) => {
        const ip = s.key.kind === 'addr' && s.key.family === 'inet' ? s.key.address.split('.').reduce((w, x) => w * 256 + Number(x), 0) : 0;
        cols.set([6, ip | 0, s.key.kind === 'addr' ? s.key.port : 0, 0], i * PLAIN_SERVICE_COLS);
      });
      const got = await b.listServiceSpecsBeyond({ count: listed.length, cols, schedulers: ['rr'] });
      expect(got).toEqual(listed.map((s) => (JSON.stringify(s.key) === JSON.stringify(VIP) ? undefined : s)));
      expect(got.filter((s) => s === undefined)).toHaveLength(1);
      expect(got).toHaveLength(4);
    });

    it('stores persistence timeout and netmask', async () => {
      await b.addService(svc(VIP, { flags: { ...DEFAULT_FLAGS, persistent: true }, timeout: 600, netmask: '255.255.255.0' }));
      const got = await b.getService(VIP);
      expect(got.flags.persistent).toBe(true);
      expect(got.timeout).toBe(600);
      expect(got.netmask).toBe('255.255.255.0');
    });

    it('refuses an IPv6 persistence prefix outside 1..128 with invalid', async () => {
      await rejectsWith(
        b.addService(svc(VIP6, { flags: { ...DEFAULT_FLAGS, persistent: true }, timeout: 60, netmask: '129' })),
        'invalid',
      );
    });

    it('adds, updates and removes destinations; update keeps counters', async () => {
      await b.addService(svc(VIP));
      await b.addDestination(VIP, dest('10.0.0.1', { weight: 3 }));
      await b.addDestination(VIP, dest('10.0.0.2', { forward: 'dr' }));
      let ds = await b.listDestinations(VIP);
      expect(ds.map((d) => d.address).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
      const d1 = ds.find((d) => d.address === '10.0.0.1')!;
      expect(d1.weight).toBe(3);
      expect(d1.forward).toBe('nat');
      expect(d1.activeConns).toBe(0);
      expect(ds.find((d) => d.address === '10.0.0.2')!.forward).toBe('dr');

      await b.updateDestination(VIP, dest('10.0.0.1', { weight: 0, upperThreshold: 100, lowerThreshold: 10 }));
      ds = await b.listDestinations(VIP);
      const u = ds.find((d) => d.address === '10.0.0.1')!;
      expect(u.weight).toBe(0);
      expect(u.upperThreshold).toBe(100);
      expect(u.lowerThreshold).toBe(10);

      await b.removeDestination(VIP, dest('10.0.0.2'));
      expect((await b.listDestinations(VIP)).map((d) => d.address)).toEqual(['10.0.0.1']);
    });

    it('refuses a duplicate destination with destination_exists', async () => {
      await b.addService(svc(VIP));
      await b.addDestination(VIP, dest('10.0.0.1', { weight: 5 }));
      await rejectsWith(b.addDestination(VIP, dest('10.0.0.1', { weight: 9 })), 'destination_exists');
      expect((await b.listDestinations(VIP))[0]!.weight).toBe(5);
    });

    it('answers destination_not_found for update/remove of a missing destination', async () => {
      await b.addService(svc(VIP));
      await rejectsWith(b.updateDestination(VIP, dest('10.0.0.9')), 'destination_not_found');
      await rejectsWith(b.removeDestination(VIP, dest('10.0.0.9')), 'destination_not_found');
    });

    it('refuses a weight above 2^31-1 with out_of_range', async () => {
      await b.addService(svc(VIP));
      await rejectsWith(b.addDestination(VIP, dest('10.0.0.1', { weight: 2 ** 31 })), 'out_of_range');
      expect(await b.listDestinations(VIP)).toEqual([]);
    });

    it('refuses a lower threshold above the upper with out_of_range (also when upper is 0)', async () => {
      await b.addService(svc(VIP));
      await rejectsWith(b.addDestination(VIP, dest('10.0.0.1', { upperThreshold: 5, lowerThreshold: 6 })), 'out_of_range');
      await rejectsWith(b.addDestination(VIP, dest('10.0.0.1', { upperThreshold: 0, lowerThreshold: 1 })), 'out_of_range');
      expect(await b.listDestinations(VIP)).toEqual([]);
    });

    it('refuses a real server of the other family unless forwarding is tunnel', async () => {
      await b.addService(svc(VIP));
      await rejectsWith(b.addDestination(VIP, dest('2001:db8::5', { forward: 'nat' })), 'invalid');
      await b.addDestination(VIP, dest('2001:db8::5', { forward: 'tun' }));
      const ds = await b.listDestinations(VIP);
      expect(ds).toHaveLength(1);
      expect(ds[0]!.family).toBe('inet6');
      expect(ds[0]!.forward).toBe('tun');
    });

    it('refuses a non-unicast real server address with invalid', async () => {
      await b.addService(svc(VIP));
      await rejectsWith(b.addDestination(VIP, dest('224.0.0.5')), 'invalid');
      await rejectsWith(b.addDestination(VIP, dest('255.255.255.255')), 'invalid');
      expect(await b.listDestinations(VIP)).toEqual([]);
    });

    it('refuses a GUE tunnel without a port with invalid', async () => {
      await b.addService(svc(VIP));
      await rejectsWith(
        b.addDestination(VIP, dest('10.0.0.1', { forward: 'tun', tunnel: { type: 'gue', port: 0, checksum: 'nocsum' } })),
        'invalid',
      );
      await b.addDestination(VIP, dest('10.0.0.1', { forward: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'csum' } }));
      const d = (await b.listDestinations(VIP))[0]!;
      expect(d.tunnel).toEqual({ type: 'gue', port: 6080, checksum: 'csum' });
    });

    it('removes a service together with its destinations', async () => {
      await b.addService(svc(VIP));
      await b.addDestination(VIP, dest('10.0.0.1'));
      await b.removeService(VIP);
      expect(await b.listDestinations(VIP)).toEqual([]);
      await b.addService(svc(VIP));
      expect(await b.listDestinations(VIP)).toEqual([]);
    });

    it('dumps every service with its destinations', async () => {
      await b.addService(svc(VIP));
      await b.addService(svc(FWM));
      await b.addDestination(VIP, dest('10.0.0.1'));
      await b.addDestination(FWM, dest('10.0.0.2'));
      await b.addDestination(FWM, dest('10.0.0.3'));
      const t = await b.dump();
      expect(t).toHaveLength(2);
      const f = t.find((s) => s.key.kind === 'fwmark')!;
      expect(f.destinations.map((d) => d.address).sort()).toEqual(['10.0.0.2', '10.0.0.3']);
      // handed over one by one: the same entries in the same order, none returned
      const handed: typeof t = [];
      expect(await b.dump((e) => handed.push(e))).toEqual([]);
      expect(handed).toEqual(t);
    });

    it('flush removes every service', async () => {
      await b.addService(svc(VIP));
      await b.addService(svc(FWM));
      await b.flush();
      expect(await b.listServices()).toEqual([]);
    });

    it('zero works on one service and on all', async () => {
      await b.addService(svc(VIP));
      await b.zero(VIP);
      await b.zero();
      expect((await b.getService(VIP)).stats.inPkts).toBe(0);
    });

    it('sets timeouts; 0 keeps a value; an absurd value is refused with invalid', async () => {
      const before = await b.getTimeouts();
      try {
        await b.setTimeouts({ tcp: 1000, tcpFin: 0, udp: 200 });
        const t = await b.getTimeouts();
        expect(t).toEqual({ tcp: 1000, tcpFin: before.tcpFin, udp: 200 });
        await rejectsWith(b.setTimeouts({ tcp: 2147483647 }), 'invalid');
        expect((await b.getTimeouts()).tcp).toBe(1000);
      } finally {
        await b.setTimeouts(before);
      }
    });

    it('starts, lists and stops a sync daemon; duplicates and missing daemons are refused', async () => {
      expect(await b.listDaemons()).toEqual([]);
      await b.startDaemon({ state: 'backup', interface: 'lo', syncId: 9 });
      try {
        const ds = await b.listDaemons();
        expect(ds).toHaveLength(1);
        expect(ds[0]).toMatchObject({ state: 'backup', interface: 'lo', syncId: 9 });
        await rejectsWith(b.startDaemon({ state: 'backup', interface: 'lo', syncId: 9 }), 'daemon_exists');
      } finally {
        await b.stopDaemon('backup');
      }
      expect(await b.listDaemons()).toEqual([]);
      await rejectsWith(b.stopDaemon('backup'), 'daemon_not_running');
    });

    it('runs a master and a backup sync daemon at once (master-master directors sync both ways); stopping one leaves the other', async () => {
      await b.startDaemon({ state: 'master', interface: 'lo', syncId: 9 });
      try {
        await b.startDaemon({ state: 'backup', interface: 'lo', syncId: 9 });
        expect((await b.listDaemons()).map((d) => d.state).sort()).toEqual(['backup', 'master']);
        await b.stopDaemon('backup');
        expect((await b.listDaemons()).map((d) => [d.state, d.syncId])).toEqual([['master', 9]]);
      } finally {
        await b.stopDaemon('master');
      }
      expect(await b.listDaemons()).toEqual([]);
    });
  });
}
