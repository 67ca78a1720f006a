/**
 * The small CA: files and modes, a chain that Node's own TLS verifies against
 * the CA (on 127.0.0.1, by the IP in the certificate), and clear refusals.
 */
import { X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FINGERPRINT_RE, fingerprintOf, initCa, issueAgentCert, normalizeFingerprint } from './pki';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'director-pki-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function serveOnce(cert: string, key: string): Promise<{ port: number; close: () => void }> {
  const srv = https.createServer({ cert, key }, (_req, res) => res.end('ok'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as AddressInfo).port, close: () => srv.close() };
}

function get(port: number, opts: https.RequestOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: '/', agent: false, ...opts }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('pki', () => {
  it('init makes a CA (key 0600) and issues an agent certificate that TLS verifies against it', async () => {
    const ca = await initCa({ dir: path.join(dir, 'pki'), name: 'Director CA test' });
    expect((await stat(ca.key)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, 'pki'))).mode & 0o777).toBe(0o700);
    const caX = new X509Certificate(await readFile(ca.cert));
    expect(caX.ca).toBe(true);
    expect(caX.subject).toBe('CN=Director CA test');

    const leaf = await issueAgentCert({ caDir: path.join(dir, 'pki'), name: 'lvs1', ips: ['127.0.0.1', '192.168.150.2'], dns: ['lvs1.example'], outDir: path.join(dir, 'agent') });
    expect((await stat(leaf.key)).mode & 0o777).toBe(0o600);
    const leafX = new X509Certificate(await readFile(leaf.cert));
    expect(leafX.ca).toBe(false);
    expect(leafX.verify(caX.publicKey)).toBe(true);
    expect(leafX.checkIssued(caX)).toBe(true);
    expect(leafX.subjectAltName).toContain('IP Address:192.168.150.2');
    expect(leafX.subjectAltName).toContain('DNS:lvs1.example');
    expect(leafX.checkIP('192.168.150.2')).toBe('192.168.150.2');
    expect(leaf.fingerprint).toMatch(FINGERPRINT_RE);
    expect(leaf.fingerprint).toBe(leafX.fingerprint256);

    // openssl agrees, when it is there
    let opensslOut: string | null = null;
    try {
      opensslOut = execFileSync('openssl', ['verify', '-CAfile', ca.cert, leaf.cert], { encoding: 'utf8' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (opensslOut !== null) expect(opensslOut).toContain(': OK');

    // a real TLS handshake with full verification (chain + IP in the SAN)
    const srv = await serveOnce(await readFile(leaf.cert, 'utf8'), await readFile(leaf.key, 'utf8'));
    try {
      expect(await get(srv.port, { ca: await readFile(ca.cert) })).toBe('ok');
      // and without the CA it is refused: the certificate is not from a public CA
      await expect(get(srv.port, {})).rejects.toThrow(/certificate/i);
    } finally {
      srv.close();
    }
  });

  it('refuses to overwrite a CA or an agent key, and names what is missing', async () => {
    const pki = path.join(dir, 'pki');
    await initCa({ dir: pki });
    const before = await readFile(path.join(pki, 'ca.key'), 'utf8');
    await expect(initCa({ dir: pki })).rejects.toThrow(/ca\.key already exists/);
    expect(await readFile(path.join(pki, 'ca.key'), 'utf8')).toBe(before);

    await issueAgentCert({ caDir: pki, name: 'lvs1', ips: ['127.0.0.1'], outDir: path.join(dir, 'a') });
    await expect(issueAgentCert({ caDir: pki, name: 'lvs1', ips: ['127.0.0.1'], outDir: path.join(dir, 'a') })).rejects.toThrow(/agent\.key already exists/);
    await expect(issueAgentCert({ caDir: path.join(dir, 'none'), name: 'x', ips: ['127.0.0.1'], outDir: path.join(dir, 'b') })).rejects.toThrow(/run 'director pki init/);
  });

  it('rejects bad names, addresses and host names before writing anything', async () => {
    const pki = path.join(dir, 'pki');
    await initCa({ dir: pki });
    const out = path.join(dir, 'out');
    await expect(issueAgentCert({ caDir: pki, name: 'a b', ips: ['127.0.0.1'], outDir: out })).rejects.toThrow(/--name/);
    await expect(issueAgentCert({ caDir: pki, name: 'lvs1', ips: ['300.1.1.1'], outDir: out })).rejects.toThrow(/--ip: '300.1.1.1'/);
    await expect(issueAgentCert({ caDir: pki, name: 'lvs1', dns: ['bad_host!'], outDir: out })).rejects.toThrow(/--dns/);
    await expect(issueAgentCert({ caDir: pki, name: 'lvs1', outDir: out })).rejects.toThrow(/at least one --ip or --dns/);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });

  it('fingerprints: the leaf of a chain, normalised forms', async () => {
    const pki = path.join(dir, 'pki');
    const ca = await initCa({ dir: pki });
    const leaf = await issueAgentCert({ caDir: pki, name: 'lvs1', ips: ['127.0.0.1'], outDir: path.join(dir, 'a') });
    expect(leaf.fingerprint).not.toBe(ca.fingerprint);
    const onlyLeaf = (await readFile(leaf.cert, 'utf8')).split(/(?<=-----END CERTIFICATE-----\n)/)[0]!;
    await writeFile(path.join(dir, 'leaf.pem'), onlyLeaf);
    expect(fingerprintOf(onlyLeaf)).toBe(leaf.fingerprint);
    expect(normalizeFingerprint(leaf.fingerprint.toLowerCase())).toBe(leaf.fingerprint);
    expect(normalizeFingerprint(leaf.fingerprint.replace(/:/g, ''))).toBe(leaf.fingerprint);
    expect(normalizeFingerprint('AB:CD')).toBeNull();
  });
});
