/**
 * One ZooKeeper session for the HA controller, on node-zookeeper-client, with
 * the state the decision needs (connected / disconnected / expired and since
 * when) and promise-returning operations that never hang the control loop.
 *
 * The client notices a dead server only when TCP says so, and learns of its
 * session's expiry only once it reconnects: a probe every third of the session
 * timeout marks the session disconnected when ZooKeeper stops answering.
 *
 * With credentials the session authenticates (digest) before any request, and
 * every node it creates is readable and writable by that identity only.
 */
import zookeeper, { type Client, type Stat } from 'node-zookeeper-client';
import type { Logger } from 'pino';
import type { ZkState } from '@/lib/schemas/ha';
import { digestId, type ZkCredentials } from './secrets';

export class ZkError extends Error {
  override readonly name = 'ZkError';
  constructor(readonly code: number | null, message: string) {
    super(message);
  }
}

export const isNoNode = (e: unknown) => e instanceof ZkError && e.code === zookeeper.Exception.NO_NODE;
export const isNodeExists = (e: unknown) => e instanceof ZkError && e.code === zookeeper.Exception.NODE_EXISTS;
export const isBadVersion = (e: unknown) => e instanceof ZkError && e.code === zookeeper.Exception.BAD_VERSION;
export const isNoAuth = (e: unknown) => e instanceof ZkError && e.code === zookeeper.Exception.NO_AUTH;

const P = zookeeper.Permission;
const permText = (perms: number) => ['r', 'w', 'c', 'd', 'a'].filter((_, i) => perms & [P.READ, P.WRITE, P.CREATE, P.DELETE, P.ADMIN][i]!).join('');

/** Why a node's ACL lets someone other than the cluster change it, or null. */
export function aclWorldWritable(acls: readonly { permission: number; id: { scheme: string; id: string } }[]): string | null {
  for (const a of acls) {
    const change = a.permission & (P.WRITE | P.CREATE | P.DELETE | P.ADMIN);
    if (change && a.id.scheme === 'world' && a.id.id === 'anyone') return `world:anyone:${permText(a.permission)}`;
    if (change && a.id.scheme === 'ip') return `ip:${a.id.id}:${permText(a.permission)} (any client from there, no credentials)`;
  }
  return null;
}

function wrap(e: unknown): ZkError {
  if (e instanceof zookeeper.Exception) return new ZkError(e.getCode(), `${e.getName()}: ${e.message}`);
  return new ZkError(null, e instanceof Error ? e.message : String(e));
}

export interface ZkNode { data: Buffer | null; stat: Stat }

export class ZkSession {
  state: ZkState = 'connecting';
  since = Date.now();
  message: string | null = null;
  /** bumps with every new session: ephemeral nodes must be created again */
  generation = 0;
  private client: Client | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private probeSentAt: number | null = null;
  private closed = false;

  /** ACL of every node this session creates: the digest identity alone with credentials, else ZooKeeper's open default */
  private acl: zookeeper.ACL[] | null = null;

  constructor(private readonly opts: {
    connect: string; sessionTimeoutMs: number; log: Logger; onChange: () => void; probePath?: string;
    /** digest credentials; without them nodes are created world-writable (tests of the lease alone) */
    auth?: ZkCredentials | null;
  }) {
    if (opts.auth) this.setAuth(opts.auth);
  }

  /** Credentials for the sessions from now on (before start()). */
  setAuth(auth: ZkCredentials): void {
    this.opts.auth = auth;
    this.acl = [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('digest', digestId(auth)))];
  }

  /** The connection string from now on (before start()): the TLS forwarder's local addresses. */
  setConnect(connect: string): void {
    this.opts.connect = connect;
  }

  /** The transport's last failure (a TLS certificate refused), shown while the session is not connected. */
  private transport: string | null = null;

  transportStatus(error: string | null): void {
    if (error === this.transport) return;
    this.transport = error;
    if (error) this.opts.log.warn({ zk: this.state, error }, 'ZooKeeper transport');
    if (this.state !== 'connected') this.set(this.state, error ?? this.message);
  }

  get authenticated(): boolean {
    return this.acl !== null;
  }

  start(): void {
    this.closed = false;
    this.newClient();
    this.probeTimer = setInterval(() => this.probe(), Math.max(100, Math.floor(this.opts.sessionTimeoutMs / 3)));
  }

  private set(state: ZkState, message: string | null): void {
    if (state === this.state && message === this.message) return;
    if (state !== this.state) this.since = Date.now();
    this.state = state;
    this.message = message;
    this.opts.log.info({ zk: state, message }, 'ZooKeeper session state');
    this.opts.onChange();
  }

  private newClient(): void {
    const client = zookeeper.createClient(this.opts.connect, { sessionTimeout: this.opts.sessionTimeoutMs, spinDelay: 200, retries: 0 });
    this.client = client;
    this.probeSentAt = null;
    // sent before any request, and again on every reconnect by the client
    if (this.opts.auth) client.addAuthInfo('digest', Buffer.from(`${this.opts.auth.user}:${this.opts.auth.password}`, 'utf8'));
    client.on('connected', () => {
      if (this.client !== client) return;
      this.set('connected', null);
    });
    client.on('disconnected', () => {
      if (this.client !== client || this.state === 'expired') return;
      this.set('disconnected', this.transport ?? 'connection to ZooKeeper lost');
    });
    client.on('expired', () => {
      if (this.client !== client) return;
      this.set('expired', 'ZooKeeper session expired');
      // the old session is gone for good: start a fresh one (its ephemeral nodes must be made again)
      client.close();
      this.generation++;
      if (!this.closed) setTimeout(() => { if (!this.closed) this.newClient(); }, 0);
    });
    this.guardSocketData(client);
    client.connect();
    this.generation++;
  }

  private recreatedAt = 0;

  /**
   * node-zookeeper-client 1.1.3 throws from its socket 'data' handler on a reply it cannot decode ("Unknown
   * code: ..."; seen in the lab right after a ZooKeeper restart), which would crash the agent. Catch it there
   * and drop the connection: the client reconnects as after any connection loss.
   */
  private guardSocketData(client: Client): void {
    const cm = (client as unknown as { connectionManager?: { onSocketData?: (b: Buffer) => void; socket?: { destroy(): void } } }).connectionManager;
    const original = cm?.onSocketData;
    if (!cm || typeof original !== 'function') return;
    const log = this.opts.log;
    cm.onSocketData = function guarded(this: typeof cm, buf: Buffer) {
      try {
        original.call(this, buf);
      } catch (err) {
        log.warn({ err }, 'ZooKeeper reply not understood: dropping the connection');
        this.socket?.destroy();
      }
    };
  }

  private probe(): void {
    const client = this.client;
    if (!client) return;
    if (this.state !== 'connected') {
      // node-zookeeper-client can stall after a TCP connect to a ZooKeeper still starting up (no timeout
      // on the session handshake; seen in the lab after a ZooKeeper restart): start over with a new client
      const stalled = Date.now() - Math.max(this.since, this.recreatedAt);
      if (this.state !== 'expired' && stalled > 3 * this.opts.sessionTimeoutMs) {
        this.opts.log.warn({ stalledMs: stalled }, 'ZooKeeper client made no progress: reconnecting with a new client');
        this.recreatedAt = Date.now();
        this.client = null;
        client.close();
        this.newClient();
      }
      return;
    }
    if (this.probeSentAt !== null) {
      const waited = Date.now() - this.probeSentAt;
      if (waited > (this.opts.sessionTimeoutMs * 2) / 3) this.set('disconnected', `ZooKeeper has not answered for ${waited} ms`);
      return;
    }
    const sent = Date.now();
    this.probeSentAt = sent;
    client.exists(this.opts.probePath ?? '/', () => {
      if (this.client !== client || this.probeSentAt !== sent) return;
      this.probeSentAt = null;
      // an answer after a probe timeout: the session is still alive
      if (this.state === 'disconnected' && this.message?.startsWith('ZooKeeper has not answered')) this.set('connected', null);
    });
  }

  /** our session id as ZooKeeper writes it in a znode's ephemeralOwner */
  sessionId(): Buffer | null {
    try {
      return this.client?.getSessionId() ?? null;
    } catch {
      return null;
    }
  }

  ownedByMe(stat: Stat): boolean {
    const id = this.sessionId();
    return id !== null && Buffer.compare(id, stat.ephemeralOwner) === 0;
  }

  private call<T>(fn: (c: Client, cb: (e: unknown, r?: T) => void) => void): Promise<T> {
    const client = this.client;
    if (!client || this.closed) return Promise.reject(new ZkError(null, 'no ZooKeeper session'));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ZkError(zookeeper.Exception.CONNECTION_LOSS, 'ZooKeeper did not answer in time')), this.opts.sessionTimeoutMs);
      fn(client, (e, r) => {
        clearTimeout(timer);
        if (e) reject(wrap(e));
        else resolve(r as T);
      });
    });
  }

  get(path: string, watch?: () => void): Promise<ZkNode | null> {
    return this.call<ZkNode>((c, cb) => {
      const done = (e: unknown, data: Buffer | undefined, stat: Stat) => cb(e, { data: data ?? null, stat });
      if (watch) c.getData(path, () => watch(), done);
      else c.getData(path, done);
    }).catch((e: unknown) => {
      if (isNoNode(e)) {
        // no node to watch: watch for its creation instead
        if (watch) this.client?.exists(path, () => watch(), () => {});
        return null;
      }
      throw e;
    });
  }

  create(path: string, data: Buffer, ephemeral: boolean): Promise<string> {
    const mode = ephemeral ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT;
    const acl = this.acl;
    return this.call((c, cb) => (acl ? c.create(path, data, acl, mode, cb) : c.create(path, data, mode, cb)));
  }

  /** A node's ACL; null when there is no such node. */
  getAcl(path: string): Promise<{ permission: number; id: { scheme: string; id: string } }[] | null> {
    return this.call<zookeeper.ACL[]>((c, cb) => c.getACL(path, (e, acls) => cb(e, acls))).catch((e: unknown) => {
      if (isNoNode(e)) return null;
      throw e;
    });
  }

  /** The first of `paths` that someone outside the cluster may change (with why), or null when none may. */
  async aclProblem(paths: readonly string[]): Promise<string | null> {
    for (const p of paths) {
      const acls = await this.getAcl(p);
      const why = acls ? aclWorldWritable(acls) : null;
      if (why) return `${p} is writable without the cluster's credentials (ACL ${why})`;
    }
    return null;
  }

  set_(path: string, data: Buffer, version: number): Promise<Stat> {
    return this.call((c, cb) => c.setData(path, data, version, cb));
  }

  remove(path: string, version: number): Promise<void> {
    return this.call<void>((c, cb) => c.remove(path, version, (e) => cb(e)));
  }

  children(path: string): Promise<string[]> {
    return this.call<string[]>((c, cb) => c.getChildren(path, (e, ch) => cb(e, ch))).catch((e: unknown) => {
      if (isNoNode(e)) return [];
      throw e;
    });
  }

  mkdirp(path: string): Promise<string> {
    const acl = this.acl;
    return this.call((c, cb) => (acl ? c.mkdirp(path, null, acl, zookeeper.CreateMode.PERSISTENT, cb) : c.mkdirp(path, cb)));
  }

  close(): void {
    this.closed = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
    this.client?.close();
    this.client = null;
  }
}
