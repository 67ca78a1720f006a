/**
 * `director agent cert` (issue the agent's TLS certificate from the console's
 * CA, or a self-signed one) and `director agent enroll` (print a one-time
 * code a console exchanges for its own credential). Defaults come from
 * /etc/director/agent.toml when it exists.
 */
import { spawnSync } from 'node:child_process';
import { chown, mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { createEnrollment, DEFAULT_TTL_MS } from '../api/enroll';
import { fingerprintOf, initCa, issueAgentCert } from '../pki/pki';
import type { AgentConfigFile } from '../../lib/schemas/agent-config';
import { agentConfigPath, loadAgentConfig } from './agent-config';
import type { CliIo } from './io';

export const DEFAULT_PKI_DIR = '/etc/director/pki';
export const DEFAULT_TLS_DIR = '/etc/director/tls';
const DEFAULT_PORT = 9580;

const CERT_USAGE = `usage: director agent cert [--ca-dir DIR | --self-signed] --name NAME --ip ADDR... [--dns NAME]... [--out DIR] [--days N]
  --ca-dir       the CA made by 'director pki init' (default ${DEFAULT_PKI_DIR})
  --self-signed  no CA: make a private one in OUT/ca just for this agent (consoles pin the certificate anyway)
  --name         the agent's name, the certificate's CN (default: the host name)
  --ip, --dns    addresses consoles reach the agent at (repeatable; at least one)
  --out          where agent.crt and agent.key (0600) go (default ${DEFAULT_TLS_DIR})
  --key-owner    the user the key is given to (default, when run as root: the agent's user 'director' if it exists)
`;

const ENROLL_USAGE = `usage: director agent enroll [--url https://ADDR:PORT] [--ttl 10m] [--tls-cert FILE] [--state-dir DIR] [--config FILE]
  Prints a one-time code for a console: 'director console add-agent CODE' on the console host,
  or paste it in the console's Directors page. The agent must be listening with TLS.
  --url       where consoles reach this agent (default: from agent.toml's listen, else this host's first address)
  --ttl       how long the code stays valid: 30s, 10m, 2h (default 10m, at most 24h)
  --tls-cert  the agent's certificate, for its fingerprint (default: agent.toml's tlsCert)
  --state-dir the agent's state folder (default: agent.toml's stateDir, $DIRECTOR_STATE_DIR or /var/lib/director)
`;

export async function agentCert(args: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'ca-dir': { type: 'string' }, 'self-signed': { type: 'boolean' }, name: { type: 'string' },
        ip: { type: 'string', multiple: true }, dns: { type: 'string', multiple: true },
        out: { type: 'string' }, days: { type: 'string' }, 'key-owner': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    io.stderr(`director agent cert: ${(e as Error).message}\n${CERT_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(CERT_USAGE);
    return 0;
  }
  if (values['self-signed'] && values['ca-dir']) {
    io.stderr('director agent cert: give --ca-dir or --self-signed, not both\n');
    return 2;
  }
  const keyOwner = values['key-owner'] ?? (isRoot() && lookupUser('director') ? 'director' : undefined);
  const owner = keyOwner === undefined ? null : lookupUser(keyOwner);
  if (keyOwner !== undefined && !owner) {
    io.stderr(`director agent cert: --key-owner: no user '${keyOwner}' on this host\n`);
    return 2;
  }
  const out = path.resolve(values.out ?? DEFAULT_TLS_DIR);
  const name = values.name ?? os.hostname();
  let caDir = path.resolve(values['ca-dir'] ?? DEFAULT_PKI_DIR);
  if (values['self-signed']) {
    await mkdir(out, { recursive: true, mode: 0o755 });
    caDir = path.join(out, 'ca');
    await initCa({ dir: caDir, name: `Director agent ${name}` });
  }
  const days = values.days === undefined ? undefined : Number(values.days);
  const r = await issueAgentCert({ caDir, name, ips: values.ip ?? [], dns: values.dns ?? [], outDir: out, ...(days !== undefined ? { days } : {}) });
  // the agent runs as its own user and must read its key; nobody else may
  if (owner) await chown(r.key, owner.uid, owner.gid);
  io.stdout(`certificate: ${r.cert}\nkey:         ${r.key} (0600${owner ? `, ${keyOwner}'s` : ''})\nfingerprint: ${r.fingerprint}\n`);
  io.stderr(
    `In /etc/director/agent.toml on that director:\n  listen = "${values.ip?.[0] && isIP(values.ip[0]) === 6 ? `[${values.ip[0]}]` : (values.ip?.[0] ?? '0.0.0.0')}:${DEFAULT_PORT}"\n` +
      `  tlsCert = "${r.cert}"\n  tlsKey = "${r.key}"\n${owner ? '' : `and give the key to the agent's user (chown director: ${r.key}); `}` +
      "then 'director agent enroll' there prints a code for the console.\n",
  );
  return 0;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** uid and gid of a local user from the passwd database (getent: NSS users too), or null. */
function lookupUser(name: string): { uid: number; gid: number } | null {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name)) return null;
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8', timeout: 5000 });
  const f = r.status === 0 ? r.stdout.trim().split(':') : [];
  return f.length >= 4 ? { uid: Number(f[2]), gid: Number(f[3]) } : null;
}

/** "10m" → 600000; plain numbers are seconds. */
export function parseTtl(text: string): number {
  const m = /^(\d{1,6})(s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`--ttl: expected a duration like 30s, 10m or 2h, got '${text}'`);
  return Number(m[1]) * (m[2] === 'h' ? 3600_000 : m[2] === 'm' ? 60_000 : 1000);
}

function firstAddress(): string | null {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return null;
}

/** The URL consoles should use, from agent.toml's listen when it names an address. */
export function defaultUrl(listen: string | undefined): string | null {
  const m = listen ? /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen) : null;
  const host = m ? (m[1] ?? m[2])! : null;
  const port = m ? Number(m[3]) : DEFAULT_PORT;
  if (host && host !== '0.0.0.0' && host !== '::') {
    return `https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  }
  const a = firstAddress();
  return a ? `https://${a}:${port}` : null;
}

export async function agentEnroll(args: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        url: { type: 'string' }, ttl: { type: 'string' }, 'tls-cert': { type: 'string' }, 'state-dir': { type: 'string' },
        config: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    io.stderr(`director agent enroll: ${(e as Error).message}\n${ENROLL_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(ENROLL_USAGE);
    return 0;
  }
  let cfg: AgentConfigFile = {};
  const cfgPath = agentConfigPath(values.config);
  if (cfgPath) cfg = loadAgentConfig(cfgPath);
  const certFile = values['tls-cert'] ?? cfg.tlsCert;
  if (!certFile) {
    io.stderr('director agent enroll: the agent has no TLS certificate: give --tls-cert FILE, or set tlsCert/tlsKey in agent.toml (director agent cert makes one)\n');
    return 2;
  }
  let fingerprint: string;
  try {
    fingerprint = fingerprintOf(await readFile(certFile));
  } catch (e) {
    io.stderr(`director agent enroll: cannot read the certificate ${certFile}: ${(e as Error).message}\n`);
    return 2;
  }
  const url = values.url ?? defaultUrl(cfg.listen);
  if (!url) {
    io.stderr('director agent enroll: give --url https://ADDR:PORT (where consoles reach this agent)\n');
    return 2;
  }
  const ttlMs = values.ttl === undefined ? DEFAULT_TTL_MS : parseTtl(values.ttl);
  const stateDir = values['state-dir'] ?? cfg.stateDir ?? process.env.DIRECTOR_STATE_DIR ?? '/var/lib/director';
  const { code, expiresAt } = await createEnrollment({ stateDir, url, fingerprint, ttlMs });
  io.stdout(`${code}\n`);
  io.stderr(
    `director agent enroll: one-time code for ${url} (certificate ${fingerprint}), valid until ${expiresAt.toISOString()}.\n` +
      "On the console host: director console add-agent CODE [--name NAME], or paste it in the console's Directors page.\n",
  );
  return 0;
}
