/**
 * A small certificate authority for console ↔ agent TLS: `director pki init`
 * makes the CA on the console host, `director agent cert` issues an agent its
 * certificate. ECDSA P-256 through Node's WebCrypto, certificates through
 * @peculiar/x509. Keys are written 0600 and never overwritten.
 */
import { createHash, webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);

const EC: EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 86_400_000;
export const CA_DAYS = 3650;
export const CERT_DAYS = 825;

export const caFiles = (dir: string) => ({ cert: path.join(dir, 'ca.crt'), key: path.join(dir, 'ca.key') });

function pemKey(der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

/** Writes a new file; an existing one is an error, never silently replaced (a CA key once lost is lost). */
async function writeNew(file: string, text: string, mode: number): Promise<void> {
  try {
    await writeFile(file, text, { mode, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${file} already exists; remove it first to replace it`);
    throw e;
  }
}

/** SHA-256 of a certificate's DER, as upper-case hex pairs joined by ':' (the form `openssl x509 -fingerprint -sha256` prints). */
export function fingerprintOf(certPem: string | Buffer): string {
  const c = new NodeX509(certPem);
  return createHash('sha256').update(c.raw).digest('hex').toUpperCase().match(/../g)!.join(':');
}

export const FINGERPRINT_RE = /^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/;

/** Accepts AA:BB…, aa:bb… or plain hex; returns the canonical AA:BB… form or null. */
export function normalizeFingerprint(text: string): string | null {
  const hex = text.trim().replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return null;
  return hex.match(/../g)!.join(':');
}

function randomSerial(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0]! &= 0x7f; // positive
  return Buffer.from(b).toString('hex');
}

export interface CaInit {
  dir: string;
  /** Common name of the CA, e.g. "Director CA console1" */
  name?: string;
  now?: Date;
}

/** Creates ca.key (0600) and ca.crt in `dir` (0700 when created). */
export async function initCa(opts: CaInit): Promise<{ cert: string; key: string; fingerprint: string }> {
  const files = caFiles(opts.dir);
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const keys = (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = opts.now ?? new Date();
  const cn = (opts.name ?? 'Director CA').replace(/[,=+<>#;"\\]/g, ' ');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${cn}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + CA_DAYS * DAY_MS),
    signingAlgorithm: EC,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = cert.toString('pem') + '\n';
  // key first: a crash between the two leaves no certificate without its key
  await writeNew(files.key, pemKey(await crypto.subtle.exportKey('pkcs8', keys.privateKey)), 0o600);
  await writeNew(files.cert, certPem, 0o644);
  return { ...files, fingerprint: fingerprintOf(certPem) };
}

export interface IssueOptions {
  caDir: string;
  /** the agent's name, the certificate's CN */
  name: string;
  ips?: string[];
  dns?: string[];
  /** where agent.crt and agent.key go */
  outDir: string;
  days?: number;
  now?: Date;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const DNS_RE = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Issues a server certificate for an agent, signed by the CA in `caDir`. */
export async function issueAgentCert(opts: IssueOptions): Promise<{ cert: string; key: string; fingerprint: string }> {
  if (!NAME_RE.test(opts.name)) throw new Error(`--name: '${opts.name}' must be 1-64 letters, digits, '.', '_' or '-'`);
  const ips = opts.ips ?? [];
  const dns = opts.dns ?? [];
  for (const ip of ips) if (!isIP(ip)) throw new Error(`--ip: '${ip}' is not an IPv4 or IPv6 address`);
  for (const d of dns) if (!DNS_RE.test(d)) throw new Error(`--dns: '${d}' is not a host name`);
  if (ips.length + dns.length === 0) throw new Error('give at least one --ip or --dns: the address the console reaches the agent at');
  const days = opts.days ?? CERT_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > CA_DAYS) throw new Error(`--days must be an integer from 1 to ${CA_DAYS}`);

  const files = caFiles(opts.caDir);
  let caCert: x509.X509Certificate, caKey: CryptoKey;
  try {
    caCert = new x509.X509Certificate(await readFile(files.cert, 'utf8'));
    const der = x509.PemConverter.decodeFirst(await readFile(files.key, 'utf8'));
    caKey = await crypto.subtle.importKey('pkcs8', der, EC, false, ['sign']);
  } catch (e) {
    throw new Error(`cannot read the CA in ${opts.caDir} (run 'director pki init --dir ${opts.caDir}' first): ${(e as Error).message}`);
  }
  const keys = (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = opts.now ?? new Date();
  const notAfter = new Date(Math.min(now.getTime() + days * DAY_MS, caCert.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${opts.name}`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter,
    signingAlgorithm: EC,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...ips.map((value) => ({ type: 'ip' as const, value })),
        ...dns.map((value) => ({ type: 'dns' as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  // 0755: the agent's own user must reach its key (0600, chowned to it by the operator); the certificate is public
  await mkdir(opts.outDir, { recursive: true, mode: 0o755 });
  const out = { cert: path.join(opts.outDir, 'agent.crt'), key: path.join(opts.outDir, 'agent.key') };
  const certPem = cert.toString('pem') + '\n' + caCert.toString('pem') + '\n';
  await writeNew(out.key, pemKey(await crypto.subtle.exportKey('pkcs8', keys.privateKey)), 0o600);
  await writeNew(out.cert, certPem, 0o644);
  return { ...out, fingerprint: fingerprintOf(certPem) };
}
