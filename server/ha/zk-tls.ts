/**
 * TLS to ZooKeeper. node-zookeeper-client 1.1.3 opens its sockets with a bare
 * `net.connect` and takes no socket factory, so the agent runs a forwarder in
 * its own process: one listener on 127.0.0.1 (a kernel-chosen port) per
 * ZooKeeper server, each accepted connection piped to a verified TLS
 * connection to that server. The client is given the local addresses. Only
 * connections from 127.0.0.1 made by the agent's own user are forwarded.
 *
 * A certificate that does not verify drops the connection (the client sees a
 * connection loss and tries again) and the reason is handed to `onStatus`, so
 * the HA status says which server and why.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { ZkTlsConfig } from '@/lib/schemas/ha';
import { readSecretFile } from './secrets';

export interface ZkTlsMaterial { ca: Buffer; cert?: Buffer; key?: Buffer; servername?: string }

const MAX_PEM_BYTES = 256 * 1024;

async function readPublic(file: string, what: string): Promise<Buffer> {
  let b: Buffer;
  try {
    b = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`ZooKeeper TLS ${what} ${file} is missing`);
    throw new Error(`ZooKeeper TLS ${what} ${file}: ${(e as Error).message}`);
  }
  if (b.length > MAX_PEM_BYTES) throw new Error(`ZooKeeper TLS ${what} ${file} is ${b.length} bytes: at most ${MAX_PEM_BYTES}`);
  if (!b.includes('-----BEGIN')) throw new Error(`ZooKeeper TLS ${what} ${file} is not PEM (no -----BEGIN line)`);
  return b;
}

/**
 * The files of `zookeeper.tls` (relative to the state folder), checked at start: the CA and certificate exist and
 * are PEM, the key passes the secrets' checks (owner, mode 0600, no link), and the three make a TLS context.
 */
export async function loadZkTls(cfg: ZkTlsConfig, stateDir: string): Promise<ZkTlsMaterial> {
  const p = (f: string) => path.resolve(stateDir, f);
  const ca = await readPublic(p(cfg.ca), 'CA');
  const cert = cfg.cert ? await readPublic(p(cfg.cert), 'certificate') : undefined;
  const key = cfg.key
    ? Buffer.from(await readSecretFile(p(cfg.key), 'ZooKeeper TLS key', `give the client key of ${p(cfg.cert ?? 'the certificate')}, mode 0600`) + '\n')
    : undefined;
  try {
    tls.createSecureContext({ ca });
  } catch (e) {
    throw new Error(`ZooKeeper TLS CA ${p(cfg.ca)}: ${(e as Error).message}`);
  }
  if (cert && key) {
    try {
      tls.createSecureContext({ cert, key });
    } catch (e) {
      throw new Error(`ZooKeeper TLS certificate ${p(cfg.cert!)} and key ${p(cfg.key!)}: ${(e as Error).message}`);
    }
  }
  return { ca, cert, key, servername: cfg.servername };
}

/** `host:port[,host:port…][/chroot]` as node-zookeeper-client reads it (port 2181 by default). */
export function parseZkConnect(connect: string): { servers: { host: string; port: number }[]; chroot: string } {
  const slash = connect.indexOf('/');
  const hosts = slash === -1 ? connect : connect.slice(0, slash);
  const chroot = slash === -1 ? '' : connect.slice(slash);
  const servers = hosts.split(',').filter(Boolean).map((item) => {
    const [host, port] = item.split(':');
    const n = Number(port ?? 2181);
    if (!host || !Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`zookeeper: '${item}' is not host:port`);
    return { host, port: n };
  });
  if (!servers.length) throw new Error('zookeeper: no server in the connection string');
  return { servers, chroot };
}

/** Words for a TLS failure: certificate problems say so first. */
export function describeTlsError(server: string, e: Error & { code?: string }): string {
  const code = e.code ?? '';
  const cert = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME|CHAIN|SIGNATURE/.test(code);
  return `ZooKeeper ${server}: ${cert ? 'certificate verify failed: ' : ''}${e.message}${code && !e.message.includes(code) ? ` (${code})` : ''}`;
}

/** 127.0.0.1:port as /proc/net/tcp writes it (the address in host byte order, the port big-endian). */
function procLoopback(port: number): string {
  const addr = os.endianness() === 'LE' ? '0100007F' : '7F000001';
  return `${addr}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The uid owning the loopback TCP socket 127.0.0.1:`from` → 127.0.0.1:`to` (Linux), or null when not found. */
export async function loopbackPeerUid(from: number, to: number): Promise<number | null> {
  const text = await readFile('/proc/net/tcp', 'utf8');
  const local = procLoopback(from);
  const remote = procLoopback(to);
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f[2] === remote) return Number(f[7]);
  }
  return null;
}

export class ZkTlsForwarder {
  private servers: net.Server[] = [];
  private sockets = new Set<net.Socket>();
  private closed = false;

  constructor(private readonly opts: {
    material: ZkTlsMaterial; log: Logger;
    /** a TLS connection failed (the reason), or one succeeded (null) */
    onStatus: (error: string | null) => void;
    /** for tests: how long a TLS handshake may take */
    handshakeTimeoutMs?: number;
  }) {}

  /** Listen for every server of `connect`; the connection string to give the client instead. */
  async start(connect: string): Promise<string> {
    const { servers, chroot } = parseZkConnect(connect);
    const local: string[] = [];
    for (const s of servers) {
      const srv = net.createServer((sock) => this.accept(sock, s.host, s.port));
      srv.on('error', (err) => this.opts.log.warn({ err }, 'ZooKeeper TLS forwarder listener'));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => { srv.off('error', reject); resolve(); });
      });
      this.servers.push(srv);
      local.push(`127.0.0.1:${(srv.address() as net.AddressInfo).port}`);
    }
    return local.join(',') + chroot;
  }

  private accept(inner: net.Socket, host: string, port: number): void {
    // the listener is bound to 127.0.0.1; anything else reaching it is refused outright
    if (this.closed || inner.remoteAddress !== '127.0.0.1') {
      inner.destroy();
      return;
    }
    inner.pause();
    inner.on('error', () => inner.destroy());
    this.sockets.add(inner);
    inner.once('close', () => this.sockets.delete(inner));
    // any local user can reach 127.0.0.1: only sockets of the agent's own user get the TLS channel (and its client certificate)
    void loopbackPeerUid(inner.remotePort!, inner.localPort!).then((uid) => {
      const me = process.getuid?.();
      if (this.closed || (me !== undefined && uid !== me)) {
        if (!this.closed) this.opts.log.warn({ uid, port: inner.remotePort }, 'ZooKeeper TLS forwarder: refused a connection from another user');
        inner.destroy();
        return;
      }
      this.forward(inner, host, port);
    }, () => inner.destroy());
  }

  private forward(inner: net.Socket, host: string, port: number): void {
    const server = `${host}:${port}`;
    const m = this.opts.material;
    const outer = tls.connect({
      host, port, ca: m.ca, cert: m.cert, key: m.key,
      // SNI cannot be an IP address; the certificate is still checked against `host` (its IP SAN)
      servername: m.servername ?? (net.isIP(host) ? undefined : host),
      rejectUnauthorized: true, minVersion: 'TLSv1.2',
    });
    this.sockets.add(inner);
    this.sockets.add(outer);
    const timer = setTimeout(() => outer.destroy(new Error(`no TLS handshake within ${this.opts.handshakeTimeoutMs ?? 5000} ms`)), this.opts.handshakeTimeoutMs ?? 5000);
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      this.opts.onStatus(describeTlsError(server, e));
      inner.destroy();
      outer.destroy();
    };
    outer.once('secureConnect', () => {
      clearTimeout(timer);
      this.opts.onStatus(null);
      inner.pipe(outer);
      outer.pipe(inner);
      inner.resume();
    });
    outer.on('error', fail);
    inner.on('error', () => outer.destroy());
    outer.on('close', () => { clearTimeout(timer); inner.destroy(); this.sockets.delete(outer); });
    inner.on('close', () => { outer.destroy(); this.sockets.delete(inner); });
  }

  close(): void {
    this.closed = true;
    for (const s of this.servers) s.close();
    for (const s of this.sockets) s.destroy();
    this.servers = [];
    this.sockets.clear();
  }
}
