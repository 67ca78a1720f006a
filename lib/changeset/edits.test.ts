import { describe, expect, it } from 'vitest';
import { InputError } from '../errors';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceRules } from '../ipvs/model';
import { applyEdits, changeEditSchema, describeEdit, MAX_CREATE_DESTINATIONS, type ChangeEdit } from './edits';

const key = { kind: 'addr' as const, family: 'inet' as const, protocol: 'tcp' as const, address: '192.168.150.100', port: 80 };
const rs = (address: string, weight = 1): DestinationSpec => ({
  family: 'inet', address, port: 80, forward: 'nat', weight, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL },
});
const web: ServiceRules = {
  key, scheduler: 'wlc', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null,
  destinations: [rs('192.168.150.11'), rs('192.168.150.12')],
};

function parse(e: unknown): ChangeEdit {
  return changeEditSchema.parse(e);
}

function issuesOf(f: () => unknown): { path: string; message: string }[] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  }
  throw new Error('expected an InputError');
}

describe('applyEdits', () => {
  it('applies edits in order and leaves the table it was given alone', () => {
    const table = [web];
    const out = applyEdits(table, [
      parse({ op: 'destination.update', service: key, destination: { family: 'inet', address: '192.168.150.11', port: 80 }, patch: { weight: 5 } }),
      parse({ op: 'destination.create', service: key, destination: rs('192.168.150.13', 2) }),
      parse({ op: 'service.update', key, patch: { scheduler: 'rr' } }),
      parse({ op: 'destination.remove', service: key, destination: { family: 'inet', address: '192.168.150.12', port: 80 } }),
    ]);
    expect(out).toHaveLength(1);
    expect(out[0]!.scheduler).toBe('rr');
    expect(out[0]!.destinations.map((d) => [d.address, d.weight])).toEqual([['192.168.150.11', 5], ['192.168.150.13', 2]]);
    expect(table[0]!.destinations.map((d) => d.weight)).toEqual([1, 1]);
    expect(table[0]!.scheduler).toBe('wlc');
  });

  it('creates and removes services', () => {
    const other = { ...key, port: 443 };
    const out = applyEdits([web], [
      parse({ op: 'service.create', service: { ...web, key: other, destinations: undefined }, destinations: [rs('192.168.150.11')] }),
      parse({ op: 'service.remove', key }),
    ]);
    expect(out.map((s) => s.key.kind !== 'fwmark' && s.key.port)).toEqual([443]);
  });

  it('names the edit and why when a real server is not there (an earlier edit removed it)', () => {
    const dest = { family: 'inet', address: '192.168.150.12', port: 80 };
    const issues = issuesOf(() => applyEdits([web], [
      parse({ op: 'destination.remove', service: key, destination: dest }),
      parse({ op: 'destination.update', service: key, destination: dest, patch: { weight: 3 } }),
    ]));
    expect(issues).toEqual([{ path: 'edits.1.destination', message: 'real server 192.168.150.12:80 is not in TCP 192.168.150.100:80' }]);
  });

  it('refuses a duplicate service and a duplicate real server', () => {
    expect(issuesOf(() => applyEdits([web], [parse({ op: 'service.create', service: { ...web, destinations: undefined } })]))[0])
      .toEqual({ path: 'edits.0.service.key', message: 'virtual service TCP 192.168.150.100:80 already exists' });
    expect(issuesOf(() => applyEdits([web], [parse({ op: 'destination.create', service: key, destination: rs('192.168.150.11') })]))[0]!.path)
      .toBe('edits.0.destination');
  });

  it('checks a merged patch with the forms\' rules and names the field', () => {
    const issues = issuesOf(() => applyEdits([web], [parse({ op: 'service.update', key, patch: { netmask: '255.0.255.0', flags: { persistent: true } } })]));
    expect(issues[0]!.path).toMatch(/^edits\.0\.patch/);
  });

  it('checks the rules that need a service and its real servers together', () => {
    const v6 = { ...rs('2001:db8::1'), family: 'inet6' as const };
    const issues = issuesOf(() => applyEdits([web], [parse({ op: 'destination.create', service: key, destination: v6 })]));
    expect(issues[0]!.path).toMatch(/^edits\.0/);
    expect(issues[0]!.message).toMatch(/TCP 192\.168\.150\.100:80/);
  });
});

describe('changeEditSchema', () => {
  it('refuses an unknown op and an unknown field', () => {
    expect(changeEditSchema.safeParse({ op: 'service.explode', key }).success).toBe(false);
    expect(changeEditSchema.safeParse({ op: 'service.remove', key, extra: 1 }).success).toBe(false);
  });

  it('refuses a weight out of range with the field named', () => {
    const r = changeEditSchema.safeParse({ op: 'destination.update', service: key, destination: { family: 'inet', address: '10.0.0.1', port: 80 }, patch: { weight: -1 } });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['patch', 'weight']);
  });

  it('bounds the real servers of a staged service', () => {
    const many = Array.from({ length: MAX_CREATE_DESTINATIONS + 1 }, (_, i) => rs(`10.0.${i >> 8}.${(i & 255) + 1}`));
    const r = changeEditSchema.safeParse({ op: 'service.create', service: { ...web, destinations: undefined }, destinations: many });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['destinations']);
  });

  it('describes an edit in one line', () => {
    expect(describeEdit(parse({ op: 'destination.update', service: key, destination: { family: 'inet', address: '192.168.150.11', port: 80 }, patch: { weight: 0 } })))
      .toBe('edit real server 192.168.150.11:80 of TCP 192.168.150.100:80: weight 0');
  });
});
