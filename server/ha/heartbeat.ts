/**
 * Heartbeat-path probe: each agent sends a small UDP datagram to its peers'
 * heartbeat addresses every PROBE_MS and listens on its own. VRRP cannot tell
 * "the master is gone" from "the heartbeat path is cut" (carrier up, adverts
 * lost); this probe can, because it runs over the same path while the agent
 * also sees the peer alive in ZooKeeper. A director fenced after a cut
 * heartbeat unfences only once the path carries datagrams again, so keepalived
 * hears the master's adverts and stays BACKUP instead of stealing the VIPs.
 */
import dgram from 'node:dgram';

export const HEARTBEAT_PORT = 9585;
const PROBE_MS = 500;
/** a path is up while a datagram from the peer arrived within this long */
const FRESH_MS = 1500;

export interface HeartbeatState {
  /** true: a datagram from every peer arrived within FRESH_MS */
  ok: boolean;
  /** since when `ok` has had its current value (epoch ms) */
  since: number;
}

export class HeartbeatProbe {
  private sock: dgram.Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly lastHeard = new Map<string, number>();
  private state: HeartbeatState = { ok: false, since: Date.now() };

  constructor(private readonly opts: { source: string; peers: string[]; director: string; port?: number; onError?: (e: Error) => void }) {}

  start(): void {
    const port = this.opts.port ?? HEARTBEAT_PORT;
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    sock.on('error', (e) => this.opts.onError?.(e));
    sock.on('message', (_msg, rinfo) => {
      if (this.opts.peers.includes(rinfo.address)) this.lastHeard.set(rinfo.address, Date.now());
    });
    sock.bind(port, this.opts.source);
    this.sock = sock;
    const payload = Buffer.from(`director-hb ${this.opts.director}`);
    this.timer = setInterval(() => {
      for (const p of this.opts.peers) sock.send(payload, port, p, () => { /* unreachable peers are the point of probing */ });
    }, PROBE_MS);
    this.timer.unref();
  }

  /** the path's state now; `since` moves only when `ok` flips */
  read(now = Date.now()): HeartbeatState {
    const ok = this.opts.peers.length > 0 && this.opts.peers.every((p) => now - (this.lastHeard.get(p) ?? 0) <= FRESH_MS);
    if (ok !== this.state.ok) this.state = { ok, since: now };
    return this.state;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.sock?.close();
    this.sock = null;
  }
}
