/**
 * Director high availability: the contract between the agent's HA controller
 * (server/ha), its tRPC router (`ha.*`) and the console's HA panel.
 *
 * A *VIP group* is what moves between directors as one: the VIPs (and the NAT
 * gateway address) of one keepalived vrrp_instance. Every director in a group
 * runs keepalived for it; a ZooKeeper lease per group says which director may
 * hold the VIPs, so a dead keepalived or a cut heartbeat cannot leave the VIPs
 * on two directors for longer than the ZooKeeper session timeout.
 */
import { z } from 'zod';
import { SYNC_ID } from '../ipvs/rules';

const ifname = z.string().regex(/^[A-Za-z0-9_.:-]{1,15}$/, 'interface names are 1-15 letters, digits or _.:-');
const ipv4Cidr = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/, 'an IPv4 address, optionally with /prefix');
const ipv4 = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/, 'an IPv4 address');

export const vrrpGroupSchema = z.object({
  /** group name: the ZooKeeper lease path and keepalived's instance name (VI_<name>) */
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'group names are lower-case letters, digits, _ or -, starting with a letter'),
  /** addresses that move with the master: VIPs and, for NAT, the real servers' gateway */
  vips: z.array(ipv4Cidr).min(1, 'a VIP group needs at least one address').max(20),
  /** interface the VIPs live on (the LAN) */
  interface: ifname,
  /** interface VRRP adverts go over (the heartbeat path); defaults to `interface` */
  heartbeatInterface: ifname.optional(),
  /** this director's address on the heartbeat path, and its peers' (unicast VRRP) */
  unicastSourceIp: ipv4.optional(),
  unicastPeers: z.array(ipv4).max(8).default([]),
  virtualRouterId: z.number().int().min(1).max(255),
  /** this director's base priority (1-254; higher wins) */
  priority: z.number().int().min(1).max(254),
  /** VRRP advert interval; failover takes about 3 intervals when the master dies silently */
  advertIntervalMs: z.number().int().min(100).max(10_000).default(1000),
  /**
   * Take the master role back when this director (the higher priority) returns.
   * Preempting costs a second failover (connections not synced are cut twice);
   * nopreempt keeps the surviving director serving until an operator hands over.
   */
  preempt: z.boolean().default(false),
});
export type VrrpGroup = z.infer<typeof vrrpGroupSchema>;

export const syncDaemonHaSchema = z.object({
  /** interface the sync daemon multicasts on (usually the heartbeat path) */
  interface: ifname,
  syncId: z.number().int().min(SYNC_ID.min).max(SYNC_ID.max).default(0),
});

/**
 * DNS in front of master-master directors: the name clients resolve answers with the VIPs of the groups that
 * have a master in service. The agent regenerates `hostsFile` (dnsmasq's --addn-hosts) and sends the DNS
 * server's process (its pid in `pidFile`, checked to be dnsmasq) SIGHUP, which re-reads it.
 */
export const haDnsSchema = z.object({
  /** the service name clients resolve */
  name: z.string().max(253).regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}$/, 'a lower-case DNS name with a dot, e.g. www.example.org'),
  /** the DNS server's address: the agent asks it what the name resolves to now */
  server: ipv4,
  port: z.number().int().min(1).max(65535).default(53),
  /** the records file the DNS server reads (absolute) */
  hostsFile: z.string().regex(/^\/[^\0\n]{1,1000}$/, 'an absolute path'),
  /** the DNS server's pid file (absolute) */
  pidFile: z.string().regex(/^\/[^\0\n]{1,1000}$/, 'an absolute path'),
  /** maintenance: how long the name stops offering this director's VIPs before they move (clients' cache: the records' TTL) */
  drainMs: z.number().int().min(0).max(600_000).default(1000),
}).strict();
export type HaDnsConfig = z.infer<typeof haDnsSchema>;

export const zkTlsSchema = z.object({
  /** the CA (PEM) that signed the ZooKeeper servers' certificates */
  ca: z.string().min(1),
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  /** the name the servers' certificates carry, when it is not the address in `zookeeper` */
  servername: z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'a host name').optional(),
}).strict().refine((t) => !t.cert === !t.key, { error: 'give both cert and key (a client certificate), or neither' });
export type ZkTlsConfig = z.infer<typeof zkTlsSchema>;

export const haConfigSchema = z.object({
  /** this director's id (same as the agent's identity; shown in the console) */
  director: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/),
  /** ZooKeeper connection string, e.g. "192.168.150.250:2181" */
  zookeeper: z.string().min(1),
  /** ZooKeeper session timeout: the longest two directors may both hold a VIP after a partition */
  sessionTimeoutMs: z.number().int().min(1000).max(60_000).default(2000),
  /** root znode for this cluster of directors */
  zkRoot: z.string().regex(/^(\/[a-zA-Z0-9_-]+)+$/).default('/director'),
  groups: z.array(vrrpGroupSchema).min(1).max(16),
  sync: syncDaemonHaSchema.optional(),
  /** peers' agent URLs, asked when ZooKeeper is unreachable (is it down for everyone, or only for me?) */
  peers: z.array(z.object({
    director: z.string(),
    url: z.string().url(),
    /** the peer's viewer token, or a file holding it (read at each ask, so a rotated token is picked up) */
    token: z.string().optional(),
    tokenFile: z.string().optional(),
  })).default([]),
  /**
   * ZooKeeper digest credentials, one line `user:password`; relative to the agent's state folder. Every
   * director of the cluster has the same file (one identity): the nodes under zkRoot are writable by it alone.
   * Must be owned by the agent's user with mode 0600, or HA does not start.
   */
  zkCredentialsFile: z.string().min(1).default('zk-credentials'),
  /** the key (one line, 32+ characters) signing the replicated table; the same file on every director; 0600 */
  tableKeyFile: z.string().min(1).default('ha-table.key'),
  /** a replicated change removing more than this share of this director's services (or all) waits for an operator */
  holdRemovalShare: z.number().min(0).max(1).default(0.5),
  /**
   * TLS to ZooKeeper (its secureClientPort): files relative to the agent's state folder. The agent verifies the
   * servers against `ca` (their certificates must name the address in `zookeeper`, or `servername`); `cert` and
   * `key` (0600, owned by the agent's user) are the client certificate when ZooKeeper asks for one.
   */
  tls: zkTlsSchema.optional(),
  dns: haDnsSchema.optional(),
  /** keepalived binary and where its files go */
  keepalivedPath: z.string().default('/usr/sbin/keepalived'),
  runDir: z.string().optional(),
});
export type HaConfig = z.infer<typeof haConfigSchema>;

export const vrrpStateSchema = z.enum(['MASTER', 'BACKUP', 'FAULT', 'STOP', 'UNKNOWN']);
export type VrrpState = z.infer<typeof vrrpStateSchema>;

export const zkStateSchema = z.enum(['connected', 'connecting', 'disconnected', 'expired', 'disabled']);
export type ZkState = z.infer<typeof zkStateSchema>;

/** Why this director holds or does not hold the VIPs right now, in words an operator reads. */
export const haTransitionSchema = z.object({
  at: z.number(), // epoch ms
  group: z.string(),
  kind: z.enum(['vrrp', 'lease', 'fence', 'zookeeper', 'sync', 'operator', 'keepalived', 'table', 'dns']),
  from: z.string().nullable(),
  to: z.string(),
  reason: z.string(),
});
export type HaTransition = z.infer<typeof haTransitionSchema>;

export const haGroupStatusSchema = z.object({
  name: z.string(),
  vips: z.array(z.string()),
  virtualRouterId: z.number(),
  priority: z.number(),
  preempt: z.boolean(),
  vrrpState: vrrpStateSchema,
  /** VIPs actually present on this director's interface (read from the kernel, not keepalived's belief) */
  vipsPresent: z.array(z.string()),
  leaseHolder: z.string().nullable(),
  /** this director is fenced: keepalived forced to FAULT so it cannot hold the VIPs */
  fenced: z.boolean(),
  fenceReason: z.string().nullable(),
  maintenance: z.boolean(),
});
export type HaGroupStatus = z.infer<typeof haGroupStatusSchema>;

export const haTableRefusalSchema = z.object({
  at: z.number(),
  reason: z.string(),
  /** the znode version refused (null: not about one payload, e.g. the ACL) */
  zkVersion: z.number().nullable(),
});
export type HaTableRefusal = z.infer<typeof haTableRefusalSchema>;

export const haHeldTableSchema = z.object({
  at: z.number(),
  /** the payload's sequence: what ha.confirmReplicated names */
  seq: z.number(),
  zkVersion: z.number(),
  from: z.string(),
  reason: z.string(),
  /** services it removes (the first 20, as labels) and how many in all, of how many here */
  removed: z.array(z.string()),
  removedCount: z.number(),
  of: z.number(),
  /** changes made outside Director on this director that it would undo, in words (the first 20) */
  outside: z.array(z.string()).optional(),
});
export type HaHeldTable = z.infer<typeof haHeldTableSchema>;

export const syncDaemonStatusSchema = z.object({
  state: z.enum(['master', 'backup']),
  interface: z.string(),
  syncId: z.number(),
});

export const haStatusSchema = z.object({
  director: z.string(),
  enabled: z.boolean(),
  zookeeper: z.object({
    state: zkStateSchema,
    since: z.number(),
    sessionTimeoutMs: z.number(),
    /** true while ZooKeeper is unreachable and this director keeps its role unchanged */
    failStatic: z.boolean(),
    message: z.string().nullable(),
  }),
  keepalived: z.object({ running: z.boolean(), pid: z.number().nullable(), configPath: z.string().nullable(), lastError: z.string().nullable() }),
  groups: z.array(haGroupStatusSchema),
  /** the agents' own UDP probe over the heartbeat path: ok = the peer's datagrams arrive (null: not probed) */
  heartbeat: z.object({ ok: z.boolean(), since: z.number() }).nullable().optional(),
  syncDaemons: z.array(syncDaemonStatusSchema),
  /** desired-table replication: version of the table in ZooKeeper this director last applied */
  table: z.object({
    appliedVersion: z.number().nullable(),
    zkVersion: z.number().nullable(),
    lastError: z.string().nullable(),
    /** the table in ZooKeeper was refused (unsigned, bad signature, stale, or an unsafe ACL): nothing applied */
    refused: haTableRefusalSchema.nullable().optional(),
    /** a validly signed change that removes too much: not applied until an operator confirms it */
    held: haHeldTableSchema.nullable().optional(),
  }),
  /** the service name in front (absent: no DNS configured) */
  dns: z.object({
    name: z.string(),
    server: z.string(),
    /** the VIPs this director last wrote for the name (or found written) */
    published: z.array(z.string()),
    publishedAt: z.number().nullable(),
    /** what the DNS server answers now (null: not asked yet or no answer) */
    resolved: z.array(z.string()).nullable(),
    resolvedAt: z.number().nullable(),
    error: z.string().nullable(),
  }).nullable().optional(),
  transitions: z.array(haTransitionSchema),
});
export type HaStatus = z.infer<typeof haStatusSchema>;

export const haGroupInput = z.object({ group: z.string().min(1).max(64) });
export const haMaintenanceInput = z.object({ on: z.boolean() });
export const haConfirmReplicatedInput = z.object({ seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
