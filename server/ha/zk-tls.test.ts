/**
 * The TLS forwarder to ZooKeeper against a real Node TLS echo server on
 * 127.0.0.1, with certificates from the project's own PKI (server/pki).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { haConfigSchema } from '@/lib/schemas/ha';
import { initCa, issueAgentCert } from '../pki/pki';
import { loadZkTls, parseZkConnect, ZkTlsForwarder, type ZkTlsMaterial } from './zk-tls';
import { ZkSession } from './zookeeper';

const log = pino({ level: 'silent' });
let dir: string;
const cleanup: (() => void)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'zk-tls-'));
});
afterEach(async () => {
  for (const c of cleanup.splice(0)) c();
  await rm(dir, { recursive: true, force: true });
});

/** A CA and a server certificate for 127.0.0.1 (or `dns`), as `director pki init` and `agent cert` make them. */
async function pki(name: string, opts: { ips?: string[]; dns?: string[] } = { ips: ['127.0.0.1'] }) {
  const caDir = path.join(dir, `${name}-ca`);
  const ca = await initCa({ dir: caDir, name: `${name} CA` });
  const out = path.join(dir, `${name}-srv`);
  const srv = await issueAgentCert({ caDir, name: 'zk1', outDir: out, ...opts });
  return { caFile: ca.cert, cert: await readFile(srv.cert), key: await readFile(srv.key), certFile: srv.cert, keyFile: srv.key };
}

/** A TLS server echoing every byte back. */
async function echoServer(cert: Buffer, key: Buffer): Promise<{ port: number; accepted: () => number }> {
  let n = 0;
  const srv = tls.createServer({ cert, key }, (s) => { n++; s.on('error', () => {}); s.pipe(s); });
  srv.on('tlsClientError', () => {});
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanup.push(() => srv.close());
  return { port: (srv.address() as net.AddressInfo).port, accepted: () => n };
}

async function forwarder(material: ZkTlsMaterial, connect: string) {
  const statuses: (string | null)[] = [];
  const f = new ZkTlsForwarder({ material, log, onStatus: (e) => statuses.push(e) });
  const local = await f.start(connect);
  cleanup.push(() => f.close());
  return { f, local, statuses };
}

const localPort = (local: string, i = 0) => Number(local.split('/')[0]!.split(',')[i]!.split(':')[1]);

/** Send `data` through a plain TCP connection to the forwarder; what comes back until `want` bytes or close. */
function roundTrip(port: number, data: Buffer, want: number, localAddress?: string): Promise<{ got: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let len = 0;
    const s = net.connect({ host: '127.0.0.1', port, localAddress }, () => s.write(data));
    const done = (closed: boolean) => { s.destroy(); resolve({ got: Buffer.concat(chunks), closed }); };
    s.on('data', (c: Buffer) => { chunks.push(c); len += c.length; if (len >= want) done(false); });
    s.on('error', () => {});
    s.on('close', () => done(true));
  });
}

describe('ZooKeeper TLS forwarder', () => {
  it('passes bytes both ways over a verified TLS connection, one local listener per server, chroot kept', async () => {
    const p = await pki('good');
    const a = await echoServer(p.cert, p.key);
    const b = await echoServer(p.cert, p.key);
    const { local, statuses } = await forwarder({ ca: await readFile(p.caFile) }, `127.0.0.1:${a.port},127.0.0.1:${b.port}/director`);
    expect(local).toMatch(/^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/director$/);
    const data = randomBytes(1 << 20);
    const r = await roundTrip(localPort(local, 0), data, data.length);
    expect(r.got.equals(data)).toBe(true);
    const r2 = await roundTrip(localPort(local, 1), Buffer.from('ruok'), 4);
    expect(r2.got.toString()).toBe('ruok');
    expect([a.accepted(), b.accepted()]).toEqual([1, 1]);
    expect(statuses).toEqual([null, null]);
  });

  it('drops the connection when the server certificate is from another CA, and says why', async () => {
    const server = await pki('zk');
    const other = await pki('other');
    const a = await echoServer(server.cert, server.key);
    const { local, statuses } = await forwarder({ ca: await readFile(other.caFile) }, `127.0.0.1:${a.port}`);
    const r = await roundTrip(localPort(local), Buffer.from('secret'), 6);
    expect(r).toEqual({ got: Buffer.alloc(0), closed: true });
    expect(a.accepted()).toBe(0);
    expect(statuses).toHaveLength(1);
    expect(statuses[0]).toMatch(new RegExp(`^ZooKeeper 127\\.0\\.0\\.1:${a.port}: certificate verify failed: .*(certificate|issuer)`));
  });

  it('checks the name in the certificate: the address, or servername when given', async () => {
    const p = await pki('named', { dns: ['zk1.lab'] });
    const a = await echoServer(p.cert, p.key);
    const ca = await readFile(p.caFile);
    const bad = await forwarder({ ca }, `127.0.0.1:${a.port}`);
    expect((await roundTrip(localPort(bad.local), Buffer.from('x'), 1)).closed).toBe(true);
    expect(bad.statuses[0]).toMatch(/certificate verify failed: .*(IP: 127\.0\.0\.1 is not in the cert's list|ERR_TLS_CERT_ALTNAME_INVALID)/);
    const good = await forwarder({ ca, servername: 'zk1.lab' }, `127.0.0.1:${a.port}`);
    expect((await roundTrip(localPort(good.local), Buffer.from('x'), 1)).got.toString()).toBe('x');
  });

  it('refuses a connection to its listener from any address but 127.0.0.1', async () => {
    const p = await pki('src');
    const a = await echoServer(p.cert, p.key);
    const { local } = await forwarder({ ca: await readFile(p.caFile) }, `127.0.0.1:${a.port}`);
    // 127.0.0.2 reaches a socket bound to 127.0.0.1 on Linux: the forwarder itself must refuse it
    const r = await roundTrip(localPort(local), Buffer.from('x'), 1, '127.0.0.2');
    expect(r).toEqual({ got: Buffer.alloc(0), closed: true });
    expect(a.accepted()).toBe(0);
  });

  it.skipIf(process.getuid?.() !== 0)('refuses a connection made by another local user (needs root to run as nobody)', async () => {
    const p = await pki('uid');
    const a = await echoServer(p.cert, p.key);
    const { local } = await forwarder({ ca: await readFile(p.caFile) }, `127.0.0.1:${a.port}`);
    const port = localPort(local);
    // the agent's own user: forwarded
    expect((await roundTrip(port, Buffer.from('mine'), 4)).got.toString()).toBe('mine');
    const script = `const s=require('net').connect(${port},'127.0.0.1',()=>s.write('x'));let got='';` +
      `s.on('data',(d)=>{got+=d;s.destroy();});s.on('error',()=>{});s.on('close',()=>{process.stdout.write(JSON.stringify(got));});`;
    const out = await new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, ['-e', script], { uid: 65534, gid: 65534, cwd: '/', stdio: ['ignore', 'pipe', 'inherit'] });
      let o = '';
      c.stdout.on('data', (d: Buffer) => (o += d.toString()));
      c.on('error', reject);
      c.on('exit', () => resolve(o));
    });
    expect(out).toBe('""');
    expect(a.accepted()).toBe(1);
  });

  it('close() stops the listeners and cuts the open connections', async () => {
    const p = await pki('close');
    const a = await echoServer(p.cert, p.key);
    const { f, local } = await forwarder({ ca: await readFile(p.caFile) }, `127.0.0.1:${a.port}`);
    const port = localPort(local);
    const s = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((r) => { s.once('data', () => r()); s.write('x'); });
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    f.close();
    await closed;
    await expect(new Promise((resolve, reject) => net.connect({ host: '127.0.0.1', port }).on('connect', resolve).on('error', reject)))
      .rejects.toThrow(/ECONNREFUSED/);
  });

  it('a ZooKeeper session behind the forwarder shows the certificate failure as its message', async () => {
    const server = await pki('zs');
    const other = await pki('zo');
    const a = await echoServer(server.cert, server.key);
    const zk = new ZkSession({ connect: `127.0.0.1:${a.port}`, sessionTimeoutMs: 2000, log, onChange: () => {} });
    // wired as the controller does
    const f2 = new ZkTlsForwarder({ material: { ca: await readFile(other.caFile) }, log, onStatus: (e) => zk.transportStatus(e) });
    zk.setConnect(await f2.start(`127.0.0.1:${a.port}`));
    cleanup.push(() => { zk.close(); f2.close(); });
    zk.start();
    const deadline = Date.now() + 5000;
    while (zk.message === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(zk.state).toBe('connecting');
    expect(zk.message).toMatch(new RegExp(`^ZooKeeper 127\\.0\\.0\\.1:${a.port}: certificate verify failed: `));
  });
});

describe('zookeeper.tls files and schema', () => {
  it('loads the CA, a client certificate and its 0600 key (relative to the state folder)', async () => {
    const p = await pki('files');
    const m = await loadZkTls({ ca: path.relative(dir, p.caFile), cert: p.certFile, key: p.keyFile, servername: 'zk1' }, dir);
    expect(m.ca.toString()).toContain('BEGIN CERTIFICATE');
    expect(m.key!.toString()).toContain('BEGIN PRIVATE KEY');
    expect(m.servername).toBe('zk1');
  });

  it('refuses a missing CA, a file that is not PEM, a key others can read, and a key of another certificate', async () => {
    const p = await pki('bad');
    const q = await pki('bad2');
    await expect(loadZkTls({ ca: 'nope.pem' }, dir)).rejects.toThrow(`ZooKeeper TLS CA ${dir}/nope.pem is missing`);
    await writeFile(path.join(dir, 'junk.pem'), 'hello');
    await expect(loadZkTls({ ca: 'junk.pem' }, dir)).rejects.toThrow(`ZooKeeper TLS CA ${dir}/junk.pem is not PEM`);
    await chmod(p.keyFile, 0o644);
    await expect(loadZkTls({ ca: p.caFile, cert: p.certFile, key: p.keyFile }, dir))
      .rejects.toThrow(`ZooKeeper TLS key ${p.keyFile} has mode 0644: group and others must have no access (chmod 600 ${p.keyFile})`);
    await chmod(p.keyFile, 0o600);
    await expect(loadZkTls({ ca: p.caFile, cert: p.certFile, key: q.keyFile }, dir))
      .rejects.toThrow(new RegExp(`ZooKeeper TLS certificate ${p.certFile} and key ${q.keyFile}: .*key values mismatch`));
  });

  it('the schema takes tls with a CA, and refuses a certificate without its key or unknown keys', () => {
    const base = { director: 'lvs1', zookeeper: 'z:2281', groups: [{ name: 'lan', vips: ['10.0.0.1/32'], interface: 'eth0', virtualRouterId: 51, priority: 150 }] };
    expect(haConfigSchema.parse({ ...base, tls: { ca: 'zk-ca.crt' } }).tls).toEqual({ ca: 'zk-ca.crt' });
    const r = haConfigSchema.safeParse({ ...base, tls: { ca: 'a', cert: 'c' } });
    expect(r.error?.issues[0]).toMatchObject({ path: ['tls'], message: 'give both cert and key (a client certificate), or neither' });
    expect(haConfigSchema.safeParse({ ...base, tls: { ca: 'a', rejectUnauthorized: false } }).success).toBe(false);
  });

  it('reads the connection string as the client does', () => {
    expect(parseZkConnect('a:1,b/x/y')).toEqual({ servers: [{ host: 'a', port: 1 }, { host: 'b', port: 2181 }], chroot: '/x/y' });
    expect(() => parseZkConnect('a:99999')).toThrow("zookeeper: 'a:99999' is not host:port");
  });
});
