import { describe, expect, it } from 'vitest';
import {
  destinationFormOf, EMPTY_DESTINATION_FORM, EMPTY_SERVICE_FORM, fieldForPath, serverErrorOf, serviceFormOf,
  validateDestinationForm, validateServiceForm,
} from './form-model';

describe('validateServiceForm', () => {
  it('builds a spec the shared schema accepts', () => {
    const r = validateServiceForm({ ...EMPTY_SERVICE_FORM, address: '192.168.150.100', port: '80', scheduler: 'rr' });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.spec.key).toEqual({ kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 80 });
      expect(r.spec.netmask).toBe('255.255.255.255');
    }
  });
  it('puts each problem beside its field', () => {
    const r = validateServiceForm({ ...EMPTY_SERVICE_FORM, address: '10.0.0.300', port: 'eighty' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.fields.address).toMatch(/not an IPv4 or IPv6 address/);
      expect(r.fields.port).toMatch(/not a whole number/);
    }
  });
  it('reports the cross-field rules of the schema on the right field', () => {
    const r = validateServiceForm({ ...EMPTY_SERVICE_FORM, address: '10.0.0.1', port: '0', onePacket: true });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.fields.port).toMatch(/persistent/);
      expect(r.fields.onePacket).toMatch(/UDP/);
    }
  });
  it('defaults a persistent timeout to ipvsadm\'s 360 s and rejects family mismatch', () => {
    const ok = validateServiceForm({ ...EMPTY_SERVICE_FORM, address: '10.0.0.1', persistent: true });
    expect(ok.ok && ok.spec.timeout).toBe(360);
    const bad = validateServiceForm({ ...EMPTY_SERVICE_FORM, address: '2001:db8::1', family: 'inet' });
    expect(!bad.ok && bad.fields.address).toMatch(/^2001:db8::1 is an IPv6 address but the address family is IPv4$/);
  });
  it('validates fwmark services', () => {
    expect(validateServiceForm({ ...EMPTY_SERVICE_FORM, kind: 'fwmark', fwmark: '7' }).ok).toBe(true);
    const r = validateServiceForm({ ...EMPTY_SERVICE_FORM, kind: 'fwmark', fwmark: '0' });
    expect(!r.ok && r.fields.fwmark).toBeTruthy();
  });
  it('round-trips through serviceFormOf', () => {
    const r = validateServiceForm({ ...EMPTY_SERVICE_FORM, address: '10.0.0.1', persistent: true, timeout: '600', netmask: '255.255.255.0' });
    expect(r.ok).toBe(true);
    if (r.ok) expect(validateServiceForm(serviceFormOf(r.spec))).toEqual(r);
  });
});

describe('validateDestinationForm', () => {
  it('accepts a DR real server', () => {
    const r = validateDestinationForm({ ...EMPTY_DESTINATION_FORM, address: '10.1.0.2', port: '80' }, 'inet');
    expect(r.ok && r.spec).toMatchObject({ family: 'inet', address: '10.1.0.2', port: 80, forward: 'dr', weight: 1 });
  });
  it('checks thresholds and GUE ports', () => {
    const r = validateDestinationForm({ ...EMPTY_DESTINATION_FORM, address: '10.1.0.2', port: '80', upperThreshold: '10', lowerThreshold: '20', forward: 'tun', tunnelType: 'gue', tunnelPort: '0' }, 'inet');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.fields.lowerThreshold).toMatch(/upper/);
      expect(r.fields.tunnelPort).toMatch(/GUE/);
    }
  });
  it('round-trips through destinationFormOf', () => {
    const r = validateDestinationForm({ ...EMPTY_DESTINATION_FORM, address: '10.1.0.2', port: '8080', forward: 'tun', tunnelType: 'gre', tunnelChecksum: 'csum' }, 'inet');
    expect(r.ok).toBe(true);
    if (r.ok) expect(validateDestinationForm(destinationFormOf(r.spec), 'inet')).toEqual(r);
  });
});

describe('server issues', () => {
  it('maps agent paths (with input prefixes) to fields', () => {
    expect(fieldForPath('service', 'service.key.port')).toBe('port');
    expect(fieldForPath('service', 'key.address.0')).toBe('address');
    expect(fieldForPath('destination', 'destination.tunnel.port')).toBe('tunnelPort');
    expect(fieldForPath('destination', 'patch.weight')).toBe('weight');
    expect(fieldForPath('service', '')).toBeNull();
  });
  it('turns a tRPC error with zod issues into field errors, and other errors into a form error', () => {
    const z = serverErrorOf('service', { message: 'invalid input', data: { zodError: { issues: [{ path: 'service.key.port', message: 'too big' }, { path: '', message: 'whole thing' }] } } });
    expect(z).toEqual({ fields: { port: 'too big' }, form: ['whole thing'] });
    expect(serverErrorOf('service', { message: 'virtual service TCP 10.0.0.1:80 already exists' })).toEqual({ fields: {}, form: ['virtual service TCP 10.0.0.1:80 already exists'] });
  });
});

describe('a real server without a port', () => {
  const v = { ...EMPTY_DESTINATION_FORM, address: '192.168.150.12', port: '' };
  it('gets the service port, as ipvsadm -r does', () => {
    const r = validateDestinationForm(v, 'inet', 8080);
    expect(r.ok && r.spec.port).toBe(8080);
  });
  it('is an error where no service port is known', () => {
    const r = validateDestinationForm(v, 'inet');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.fields.port).toBe('required');
  });
});
