import { describe, expect, it } from 'vitest';
import { syncStartInput, timeoutsSetInput } from '../schemas/api';
import { syncDaemonHaSchema } from '../schemas/ha';
import { destinationSpecSchema, serviceSpecSchema } from '../schemas/ipvs';
import { quickDestinationSpec, quickServiceSpec } from '../snapshot/validate';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceKey, type ServiceSpec } from './model';
import {
  CONN_TIMEOUT, FWMARK, GUE_PORT, IPV6_PREFIX, MAX_NAME_LENGTH, PERSISTENCE_TIMEOUT, PORT, SYNC_ID, SYNC_MAXLEN, SYNC_PORT,
  SYNC_TTL, THRESHOLD, WEIGHT, type Bound,
} from './rules';
import { validateDaemonConfig, validateDestinationSpec, validateServiceSpec, validateTimeouts } from './validate';

const VIP: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 80 };
const persistent = { flags: { ...DEFAULT_FLAGS, persistent: true }, timeout: 300 };
const svc = (o: Partial<ServiceSpec> = {}): ServiceSpec => ({
  key: VIP, scheduler: 'rr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null, ...o,
});
const dst = (o: Partial<DestinationSpec> = {}): DestinationSpec => ({
  family: 'inet', address: '192.168.150.12', port: 80, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0,
  tunnel: { ...DEFAULT_TUNNEL }, ...o,
});
const accepts = (fn: () => unknown): boolean => {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
};

/** Each validator that checks the value: does it accept it? */
type Verdicts = Record<string, (v: number) => boolean>;
const service = (make: (v: number) => ServiceSpec): Verdicts => ({
  schema: (v) => serviceSpecSchema.safeParse(make(v)).success,
  snapshot: (v) => quickServiceSpec(make(v)) !== null,
  netlink: (v) => accepts(() => validateServiceSpec(make(v))),
});
const destination = (make: (v: number) => DestinationSpec): Verdicts => ({
  schema: (v) => destinationSpecSchema.safeParse(make(v)).success,
  snapshot: (v) => quickDestinationSpec(make(v)) !== null,
  netlink: (v) => accepts(() => validateDestinationSpec(VIP, make(v))),
});
const daemon = (field: 'syncId' | 'maxLen' | 'port' | 'ttl'): Verdicts => ({
  netlink: (v) => accepts(() => validateDaemonConfig({ state: 'master', interface: 'eth0', syncId: 0, [field]: v })),
  API: (v) => syncStartInput.safeParse({ state: 'master', interface: 'eth0', syncId: 0, [field]: v }).success,
  ...(field === 'syncId' ? { 'HA config': (v: number) => syncDaemonHaSchema.safeParse({ interface: 'eth0', syncId: v }).success } : {}),
});

const name = (n: number) => 'a'.repeat(n);

/** [bound, its range, how each validator sees a value] */
const bounds: [string, Bound, Verdicts][] = [
  ['virtual service port', PORT, service((port) => svc({ ...persistent, key: { ...VIP, port } as ServiceKey }))],
  ['fwmark', FWMARK, service((fwmark) => svc({ key: { kind: 'fwmark', family: 'inet', fwmark } }))],
  ['persistence timeout', PERSISTENCE_TIMEOUT, service((timeout) => svc({ timeout }))],
  ['IPv6 persistence prefix', IPV6_PREFIX, service((p) => svc({
    ...persistent, key: { kind: 'addr', family: 'inet6', protocol: 'tcp', address: '2001:db8::1', port: 80 }, netmask: String(p),
  }))],
  ['persistence engine name length', { min: 1, max: MAX_NAME_LENGTH }, service((n) => svc({ ...persistent, pe: name(n) }))],
  ['real server port', PORT, destination((port) => dst({ port }))],
  ['weight', WEIGHT, destination((weight) => dst({ weight }))],
  ['upper threshold', THRESHOLD, destination((upperThreshold) => dst({ upperThreshold }))],
  ['lower threshold', THRESHOLD, destination((lowerThreshold) => dst({ lowerThreshold, upperThreshold: THRESHOLD.max }))],
  ['GUE tunnel port', GUE_PORT, destination((port) => dst({ forward: 'tun', tunnel: { type: 'gue', port, checksum: 'nocsum' } }))],
  ['connection timeout', CONN_TIMEOUT, {
    schema: (v) => timeoutsSetInput.safeParse({ tcp: v }).success,
    netlink: (v) => accepts(() => validateTimeouts({ tcp: v })),
  }],
  ['sync id', SYNC_ID, daemon('syncId')],
  ['sync maxlen', SYNC_MAXLEN, daemon('maxLen')],
  ['sync port', SYNC_PORT, daemon('port')],
  ['sync ttl', SYNC_TTL, daemon('ttl')],
  ['sync interface name length', { min: 1, max: MAX_NAME_LENGTH }, {
    netlink: (n) => accepts(() => validateDaemonConfig({ state: 'master', interface: name(n), syncId: 0 })),
    API: (n) => syncStartInput.safeParse({ state: 'master', interface: name(n), syncId: 0 }).success,
  }],
];

describe('each bound is one rule: every validator draws the line at the same place', () => {
  it.each(bounds)('%s', (_what, b, verdicts) => {
    // min-1 and max+1 refused, min and max accepted, by each validator alike
    const probes = [b.min - 1, b.min, b.max, b.max + 1];
    const want = [false, true, true, false];
    for (const [who, accepted] of Object.entries(verdicts)) {
      expect({ who, verdicts: probes.map((v) => accepted(v)) }).toEqual({ who, verdicts: want });
    }
  });

  it('a scheduler name too long to carry is refused by all three; unknown names only the kernel can judge reach it', () => {
    const long = svc({ scheduler: name(MAX_NAME_LENGTH + 1) });
    expect(serviceSpecSchema.safeParse(long).success).toBe(false);
    expect(quickServiceSpec(long)).toBeNull();
    expect(accepts(() => validateServiceSpec(long))).toBe(false);
    expect(accepts(() => validateServiceSpec(svc({ scheduler: 'twos' })))).toBe(true);
  });
});
