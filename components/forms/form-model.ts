/**
 * Form values ⇄ the shared zod schemas (lib/schemas/ipvs.ts). Forms hold
 * flat text fields; these functions build the object the agent validates with
 * the same schema, and map schema issue paths (local or returned by the
 * agent) back to the field that shows them.
 */
import type { FieldErrors, FieldValues, ResolverResult } from 'react-hook-form';
import type { z } from 'zod';
import { destinationSpecSchema, serviceSpecSchema } from '@/lib/schemas/ipvs';
import type { DestinationSpec, ForwardMethod, ServiceSpec, TunnelChecksum, TunnelType } from '@/lib/ipvs/model';

export interface ServiceFormValues {
  kind: 'addr' | 'fwmark';
  family: 'inet' | 'inet6';
  protocol: 'tcp' | 'udp' | 'sctp';
  address: string;
  port: string;
  fwmark: string;
  scheduler: string;
  persistent: boolean;
  timeout: string;
  netmask: string;
  onePacket: boolean;
  sched1: boolean;
  sched2: boolean;
  sched3: boolean;
}

export interface DestinationFormValues {
  address: string;
  port: string;
  forward: ForwardMethod;
  weight: string;
  upperThreshold: string;
  lowerThreshold: string;
  tunnelType: TunnelType;
  tunnelPort: string;
  tunnelChecksum: TunnelChecksum;
}

export const EMPTY_SERVICE_FORM: ServiceFormValues = {
  kind: 'addr', family: 'inet', protocol: 'tcp', address: '', port: '80', fwmark: '', scheduler: 'wlc',
  persistent: false, timeout: '', netmask: '', onePacket: false, sched1: false, sched2: false, sched3: false,
};

export const EMPTY_DESTINATION_FORM: DestinationFormValues = {
  address: '', port: '', forward: 'dr', weight: '1', upperThreshold: '0', lowerThreshold: '0',
  tunnelType: 'ipip', tunnelPort: '0', tunnelChecksum: 'nocsum',
};

type Errors = Record<string, string>;

/** Whole non-negative numbers only; anything else is reported against the field. */
function num(values: Record<string, unknown>, field: string, errors: Errors, opts: { empty?: number } = {}): number {
  const text = String(values[field] ?? '').trim();
  if (text === '' && opts.empty !== undefined) return opts.empty;
  if (!/^\d+$/.test(text)) {
    errors[field] = text === '' ? 'required' : `'${text}' is not a whole number`;
    return 0;
  }
  return Number(text);
}

export function serviceInputOf(v: ServiceFormValues, errors: Errors = {}): unknown {
  const key = v.kind === 'fwmark'
    ? { kind: 'fwmark', family: v.family, fwmark: num(v as never, 'fwmark', errors) }
    : { kind: 'addr', family: v.family, protocol: v.protocol, address: v.address, port: num(v as never, 'port', errors) };
  return {
    key,
    scheduler: v.scheduler,
    flags: { persistent: v.persistent, onePacket: v.onePacket, sched1: v.sched1, sched2: v.sched2, sched3: v.sched3 },
    timeout: v.persistent ? num(v as never, 'timeout', errors, { empty: 360 }) : 0,
    netmask: v.netmask.trim(),
    pe: null,
  };
}

/**
 * `defaultPort`: what an empty port means; ipvsadm gives a real server the
 * service's port when -r names none (0 for a fwmark service).
 */
export function destinationInputOf(v: DestinationFormValues, family: 'inet' | 'inet6', errors: Errors = {}, defaultPort?: number): unknown {
  const isV6 = v.address.includes(':');
  return {
    // A real server's family follows its address (tunnel forwarding may cross families).
    family: v.address.trim() === '' ? family : isV6 ? 'inet6' : 'inet',
    address: v.address,
    port: num(v as never, 'port', errors, defaultPort === undefined ? {} : { empty: defaultPort }),
    forward: v.forward,
    weight: num(v as never, 'weight', errors),
    upperThreshold: num(v as never, 'upperThreshold', errors, { empty: 0 }),
    lowerThreshold: num(v as never, 'lowerThreshold', errors, { empty: 0 }),
    tunnel: v.forward === 'tun'
      ? { type: v.tunnelType, port: v.tunnelType === 'gue' ? num(v as never, 'tunnelPort', errors) : 0, checksum: v.tunnelType === 'ipip' ? 'nocsum' : v.tunnelChecksum }
      : { type: 'ipip', port: 0, checksum: 'nocsum' },
  };
}

const SERVICE_PATHS: Record<string, keyof ServiceFormValues> = {
  'key.address': 'address', 'key.port': 'port', 'key.fwmark': 'fwmark', 'key.family': 'family', 'key.protocol': 'protocol',
  key: 'address', scheduler: 'scheduler', timeout: 'timeout', netmask: 'netmask',
  'flags.onePacket': 'onePacket', 'flags.persistent': 'persistent', 'flags.sched1': 'sched1', 'flags.sched2': 'sched2', 'flags.sched3': 'sched3',
};

const DEST_PATHS: Record<string, keyof DestinationFormValues> = {
  address: 'address', port: 'port', family: 'address', forward: 'forward', weight: 'weight',
  upperThreshold: 'upperThreshold', lowerThreshold: 'lowerThreshold',
  'tunnel.type': 'tunnelType', 'tunnel.port': 'tunnelPort', 'tunnel.checksum': 'tunnelChecksum', tunnel: 'tunnelType',
};

/** A dotted schema path (possibly prefixed, e.g. "service.key.port" from the agent) → form field, or null for form-level. */
export function fieldForPath(kind: 'service' | 'destination', path: string): string | null {
  const table: Record<string, string> = kind === 'service' ? SERVICE_PATHS : DEST_PATHS;
  const stripped = path.replace(/^(service|destination|patch)\./, '');
  if (stripped in table) return table[stripped]!;
  // Longest known prefix ("key.address.0" → address).
  const parts = stripped.split('.');
  while (parts.length > 1) {
    parts.pop();
    const k = parts.join('.');
    if (k in table) return table[k]!;
  }
  return null;
}

export function issuesToErrors(kind: 'service' | 'destination', issues: ReadonlyArray<{ path: string; message: string }>): { fields: Errors; form: string[] } {
  const fields: Errors = {};
  const form: string[] = [];
  for (const i of issues) {
    const f = fieldForPath(kind, i.path);
    if (f === null) form.push(i.message);
    else fields[f] ??= i.message;
  }
  return { fields, form };
}

function zodIssues(err: z.ZodError): Array<{ path: string; message: string }> {
  return err.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

function toResolver<V extends FieldValues, Out>(errors: Errors, form: string[], values: Out): ResolverResult<V> {
  const all = { ...errors };
  if (form.length) all.root = form.join('; ');
  if (Object.keys(all).length === 0) return { values: values as never, errors: {} };
  const fe: Record<string, { type: string; message: string }> = {};
  for (const [k, m] of Object.entries(all)) fe[k] = { type: 'validate', message: m };
  return { values: {}, errors: fe as FieldErrors<V> };
}

export function validateServiceForm(v: ServiceFormValues): { ok: true; spec: ServiceSpec } | { ok: false; fields: Errors; form: string[] } {
  const local: Errors = {};
  const input = serviceInputOf(v, local);
  const r = serviceSpecSchema.safeParse(input);
  if (r.success && Object.keys(local).length === 0) return { ok: true, spec: r.data };
  const mapped = r.success ? { fields: {}, form: [] } : issuesToErrors('service', zodIssues(r.error));
  return { ok: false, fields: { ...mapped.fields, ...local }, form: mapped.form };
}

export function validateDestinationForm(v: DestinationFormValues, family: 'inet' | 'inet6', defaultPort?: number): { ok: true; spec: DestinationSpec } | { ok: false; fields: Errors; form: string[] } {
  const local: Errors = {};
  const r = destinationSpecSchema.safeParse(destinationInputOf(v, family, local, defaultPort));
  if (r.success && Object.keys(local).length === 0) return { ok: true, spec: r.data };
  const mapped = r.success ? { fields: {}, form: [] } : issuesToErrors('destination', zodIssues(r.error));
  return { ok: false, fields: { ...mapped.fields, ...local }, form: mapped.form };
}

/** react-hook-form resolvers running the shared schemas. */
export function serviceResolver(v: ServiceFormValues): ResolverResult<ServiceFormValues> {
  const r = validateServiceForm(v);
  return r.ok ? { values: v, errors: {} } : toResolver<ServiceFormValues, ServiceFormValues>(r.fields, r.form, v);
}

export function destinationResolver(family: 'inet' | 'inet6', defaultPort?: number) {
  return (v: DestinationFormValues): ResolverResult<DestinationFormValues> => {
    const r = validateDestinationForm(v, family, defaultPort);
    return r.ok ? { values: v, errors: {} } : toResolver<DestinationFormValues, DestinationFormValues>(r.fields, r.form, v);
  };
}

export function serviceFormOf(s: ServiceSpec): ServiceFormValues {
  const k = s.key;
  return {
    kind: k.kind,
    family: k.family,
    protocol: k.kind === 'addr' ? k.protocol : 'tcp',
    address: k.kind === 'addr' ? k.address : '',
    port: k.kind === 'addr' ? String(k.port) : '',
    fwmark: k.kind === 'fwmark' ? String(k.fwmark) : '',
    scheduler: s.scheduler,
    persistent: s.flags.persistent,
    timeout: s.flags.persistent ? String(s.timeout) : '',
    netmask: s.netmask === (k.family === 'inet' ? '255.255.255.255' : '128') ? '' : s.netmask,
    onePacket: s.flags.onePacket,
    sched1: s.flags.sched1,
    sched2: s.flags.sched2,
    sched3: s.flags.sched3,
  };
}

export function destinationFormOf(d: DestinationSpec): DestinationFormValues {
  return {
    address: d.address, port: String(d.port), forward: d.forward, weight: String(d.weight),
    upperThreshold: String(d.upperThreshold), lowerThreshold: String(d.lowerThreshold),
    tunnelType: d.tunnel.type, tunnelPort: String(d.tunnel.port), tunnelChecksum: d.tunnel.checksum,
  };
}

/** Server-returned tRPC errors: zod issues from the agent's errorFormatter, or a message. */
export function serverErrorOf(kind: 'service' | 'destination', err: unknown): { fields: Errors; form: string[] } {
  const e = err as { message?: string; data?: { zodError?: { issues?: Array<{ path: string; message: string }> } | null } };
  const issues = e?.data?.zodError?.issues;
  if (issues && issues.length) return issuesToErrors(kind, issues);
  return { fields: {}, form: [e?.message ?? String(err)] };
}
