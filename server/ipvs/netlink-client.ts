/**
 * IpvsBackend on the kernel's IPVS generic-netlink family, through npm
 * `netlink` 0.3.0 for the socket and lib/ipvs/codec for every byte.
 *
 * Concurrency: the kernel runs at most one dump per netlink socket (a second
 * one gets EBUSY), and the library's multipart reassembly is per socket and
 * breaks when another reply lands inside a dump. So each socket ("lane")
 * carries one request at a time; the main lane serves everything, and the
 * per-service GET_DEST dumps of dump() fan out over a small pool of extra
 * lanes opened on first use.
 */
import { getSystemErrorName } from 'node:util';
import { createNetlink, parseError, Protocol, type NetlinkSocket } from 'netlink';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import {
  packDaemon, packDaemonState, packDestination, packDestinationKey, packGenlMessage, packGetFamily, packService,
  packServiceKey, packTimeouts, unpackDaemonMessage, unpackDestinationMessage, unpackFamily, unpackGenlMessage,
  unpackInfo, unpackServiceMessage, unpackTimeouts,
} from '@/lib/ipvs/codec';
import * as C from '@/lib/ipvs/constants';
import { IpvsError, type IpvsErrorCode } from '@/lib/ipvs/errors';
import { formatDestination, formatServiceKey } from '@/lib/ipvs/format';
import {
  SCHEDULERS, type DestinationKey, type DestinationSpec, type DestinationState, type IpvsInfo, type ServiceEntry,
  type ServiceKey, type ServiceSpec, type ServiceState, type SyncDaemon, type SyncDaemonConfig, type SyncState,
  type Timeouts,
} from '@/lib/ipvs/model';
import {
  validateDaemonConfig, validateDestinationKey, validateDestinationSpec, validateServiceKey, validateServiceSpec,
  validateTimeouts,
} from '@/lib/ipvs/validate';

export interface NetlinkIpvsOptions {
  /** Per-request timeout, ms. */
  timeoutMs?: number;
  /** Sockets used in parallel for the per-service destination dumps of dump(). */
  dumpConcurrency?: number;
}

/** A kernel refusal, before it is given a meaning by the operation that got it. */
export class KernelError extends Error {
  constructor(readonly errno: number, readonly cmd: number) {
    super(`kernel refused IPVS command ${cmd}: ${errnoName(errno)}`);
  }
}

export function errnoName(errno: number): string {
  try { return getSystemErrorName(-Math.abs(errno)); } catch { return `errno ${errno}`; }
}

class Lane {
  private tail: Promise<unknown> = Promise.resolve();
  /** non-dump requests started since the last dump, which the next dump must wait for */
  private shared = new Set<Promise<unknown>>();

  constructor(readonly sock: NetlinkSocket) {
    // Without a listener an 'error' event would crash the process; failures surface through requests.
    sock.on('error', () => {});
    sock.on('invalid', () => {});
  }

  /** Runs one request alone on this socket: after everything before it, before anything after it. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.shared.size ? Promise.all([this.tail, ...this.shared]) : this.tail;
    this.shared = new Set();
    const p = before.then(fn, fn);
    this.tail = p.catch(() => {});
    return p;
  }

  /**
   * Runs a non-dump request without waiting for other non-dump requests:
   * their single-message replies are matched by sequence number and the
   * kernel handles requests in the order sent, so many can be in flight.
   * Dumps stay exclusive (multipart reassembly is per socket).
   */
  runShared<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn, fn);
    const settled = p.catch(() => {});
    const set = this.shared;
    set.add(settled);
    void settled.then(() => set.delete(settled));
    return p;
  }
}

function openLane(): Lane {
  return new Lane(createNetlink(Protocol.GENERIC));
}

async function rawRequest(lane: Lane, familyId: number, payload: Uint8Array, dump: boolean, timeoutMs: number, cmd: number): Promise<Uint8Array[]> {
  return (dump ? lane.run.bind(lane) : lane.runShared.bind(lane))(async () => {
    let msgs;
    try {
      [msgs] = await lane.sock.request(familyId, [Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)], {
        flags: dump ? C.NLM_F_DUMP : 0, checkError: false, timeout: timeoutMs,
      });
    } catch (e) {
      const text = (e as Error).message;
      if (/Timeout has been reached/.test(text)) {
        throw new IpvsError('timeout', `the kernel did not answer IPVS command ${cmd} within ${timeoutMs} ms`, undefined, { cause: e });
      }
      if (/Multipart message not terminated/.test(text)) {
        throw new IpvsError('malformed_reply', `malformed IPVS reply: dump for command ${cmd} was not terminated`, undefined, { cause: e });
      }
      throw new IpvsError('internal', `netlink request failed: ${text}`, undefined, { cause: e });
    }
    const out: Uint8Array[] = [];
    for (const m of msgs) {
      if (m.type === C.NLMSG_ERROR) {
        let errno: number;
        try { errno = parseError(m.data, m.flags).errno; } catch (e) {
          throw new IpvsError('malformed_reply', 'malformed IPVS reply: truncated netlink error message', undefined, { cause: e });
        }
        if (errno !== 0) throw new KernelError(-errno, cmd);
        continue; // ACK
      }
      if (m.type !== familyId) continue;
      out.push(unpackGenlMessage(m.data).attrs);
    }
    return out;
  });
}

/** Resolves a generic-netlink family id; rejects with KernelError(ENOENT) when it is not registered. */
export async function resolveFamily(lane: Lane, name: string, timeoutMs: number): Promise<number> {
  const [reply] = await rawRequest(lane, C.GENL_ID_CTRL, packGetFamily(name), false, timeoutMs, C.CTRL_CMD_GETFAMILY);
  if (!reply) throw new IpvsError('malformed_reply', `malformed reply: family lookup for ${name} returned nothing`);
  return unpackFamily(reply).id;
}

type ErrnoMeaning = Partial<Record<string, [IpvsErrorCode, string]>>;

function explain(e: unknown, meanings: ErrnoMeaning, what: string): never {
  if (!(e instanceof KernelError)) throw e;
  const name = errnoName(e.errno);
  const m = meanings[name];
  if (m) throw new IpvsError(m[0], m[1], name, { cause: e });
  switch (name) {
    case 'EPERM':
      throw new IpvsError('permission', `permission denied for ${what}: IPVS needs CAP_NET_ADMIN (run Director's agent as root)`, name, { cause: e });
    case 'EINVAL':
      throw new IpvsError('invalid', `the kernel refused ${what} as invalid (EINVAL)`, name, { cause: e });
    case 'ERANGE':
      throw new IpvsError('out_of_range', `the kernel refused ${what}: a value is out of range (ERANGE)`, name, { cause: e });
    case 'EAFNOSUPPORT':
      throw new IpvsError('unsupported', `the kernel does not support this address family for ${what}`, name, { cause: e });
    case 'EOPNOTSUPP':
      throw new IpvsError('unsupported', `the kernel does not support ${what}`, name, { cause: e });
    default:
      throw new IpvsError('internal', `${what} failed: ${name}`, name, { cause: e });
  }
}

function schedulerMessage(spec: ServiceSpec): string {
  const known = SCHEDULERS as readonly string[];
  if (spec.pe !== null && spec.pe !== 'sip') return `unknown persistence engine '${spec.pe}' (known: sip)`;
  if (!known.includes(spec.scheduler) && spec.scheduler !== 'none') {
    return `unknown scheduler '${spec.scheduler}' (known: ${known.join(', ')})`;
  }
  const pe = spec.pe === null ? '' : ` or persistence engine '${spec.pe}'`;
  return `scheduler '${spec.scheduler}'${pe} is not available in this kernel (module ip_vs_${spec.scheduler} not loadable?)`;
}

export class NetlinkIpvs implements IpvsBackend {
  private readonly dumpLanes: Lane[] = [];
  private closed = false;
  private readonly timeoutMs: number;
  private readonly dumpConcurrency: number;

  private constructor(private readonly lane: Lane, private readonly familyId: number, opts: NetlinkIpvsOptions) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.dumpConcurrency = Math.max(1, opts.dumpConcurrency ?? 16);
  }

  /** Opens the socket and resolves the IPVS family. Kernel errors come back as KernelError. */
  static async connect(opts: NetlinkIpvsOptions = {}): Promise<NetlinkIpvs> {
    const lane = openLane();
    try {
      const id = await resolveFamily(lane, C.IPVS_GENL_NAME, opts.timeoutMs ?? 30_000);
      return new NetlinkIpvs(lane, id, opts);
    } catch (e) {
      lane.sock.close();
      throw e;
    }
  }

  private request(cmd: number, attrs: Uint8Array[] = [], dump = false, lane = this.lane): Promise<Uint8Array[]> {
    if (this.closed) return Promise.reject(new IpvsError('internal', 'the IPVS handle is closed'));
    return rawRequest(lane, this.familyId, packGenlMessage(cmd, attrs), dump, this.timeoutMs, cmd);
  }

  async info(): Promise<IpvsInfo> {
    const [reply] = await this.request(C.IPVS_CMD_GET_INFO).catch((e) => explain(e, {}, 'reading IPVS info'));
    if (!reply) throw new IpvsError('malformed_reply', 'malformed IPVS reply: GET_INFO returned nothing');
    return unpackInfo(reply);
  }

  async listServices(): Promise<ServiceState[]> {
    const replies = await this.request(C.IPVS_CMD_GET_SERVICE, [], true).catch((e) => explain(e, {}, 'listing virtual services'));
    return replies.map(unpackServiceMessage);
  }

  async getService(key: ServiceKey): Promise<ServiceState> {
    validateServiceKey(key);
    const label = `virtual service ${formatServiceKey(key)}`;
    const [reply] = await this.request(C.IPVS_CMD_GET_SERVICE, [packServiceKey(key)])
      .catch((e) => explain(e, { ESRCH: ['service_not_found', `${label} does not exist`] }, `reading ${label}`));
    if (!reply) throw new IpvsError('malformed_reply', `malformed IPVS reply: GET_SERVICE for ${label} returned nothing`);
    return unpackServiceMessage(reply);
  }

  async listDestinations(key: ServiceKey, lane = this.lane): Promise<DestinationState[]> {
    validateServiceKey(key);
    const replies = await this.request(C.IPVS_CMD_GET_DEST, [packServiceKey(key)], true, lane)
      .catch((e) => explain(e, {}, `listing real servers of virtual service ${formatServiceKey(key)}`));
    return replies.map((r) => unpackDestinationMessage(r, key.family));
  }

  /** Every service (kernel order) with its destinations; the GET_DEST dumps run on up to dumpConcurrency sockets. */
  async dump(): Promise<ServiceEntry[]> {
    const services = await this.listServices();
    const lanes = this.lanesFor(services.length);
    const out: ServiceEntry[] = services.map((s) => ({ ...s, destinations: [] }));
    let next = 0;
    await Promise.all(lanes.map(async (lane) => {
      while (next < out.length) {
        const entry = out[next++]!;
        entry.destinations = await this.listDestinations(entry.key, lane);
      }
    }));
    return out;
  }

  private lanesFor(jobs: number): Lane[] {
    const want = Math.min(this.dumpConcurrency, jobs);
    while (this.dumpLanes.length < want) this.dumpLanes.push(openLane());
    return this.dumpLanes.slice(0, want);
  }

  async addService(spec: ServiceSpec): Promise<void> {
    validateServiceSpec(spec);
    const label = `virtual service ${formatServiceKey(spec.key)}`;
    await this.request(C.IPVS_CMD_NEW_SERVICE, [packService(spec)]).catch((e) => explain(e, {
      EEXIST: ['service_exists', `${label} already exists`],
      ENOENT: ['unknown_scheduler', schedulerMessage(spec)],
    }, `adding ${label}`));
  }

  async updateService(spec: ServiceSpec): Promise<void> {
    validateServiceSpec(spec);
    const label = `virtual service ${formatServiceKey(spec.key)}`;
    await this.request(C.IPVS_CMD_SET_SERVICE, [packService(spec)]).catch((e) => explain(e, {
      ESRCH: ['service_not_found', `${label} does not exist`],
      ENOENT: ['unknown_scheduler', schedulerMessage(spec)],
    }, `changing ${label}`));
  }

  async removeService(key: ServiceKey): Promise<void> {
    validateServiceKey(key);
    const label = `virtual service ${formatServiceKey(key)}`;
    await this.request(C.IPVS_CMD_DEL_SERVICE, [packServiceKey(key)])
      .catch((e) => explain(e, { ESRCH: ['service_not_found', `${label} does not exist`] }, `removing ${label}`));
  }

  private destMeanings(service: ServiceKey, dest: DestinationKey): ErrnoMeaning {
    const svc = `virtual service ${formatServiceKey(service)}`;
    const rs = `real server ${formatDestination(dest)}`;
    return {
      ESRCH: ['service_not_found', `${svc} does not exist`],
      EEXIST: ['destination_exists', `${rs} already exists in ${svc}`],
      ENOENT: ['destination_not_found', `${rs} not found in ${svc}`],
      EINVAL: ['invalid', `the kernel refused ${rs} in ${svc} (EINVAL: address not unicast, tunnel settings, or a sync daemon forbids mixed families)`],
    };
  }

  async addDestination(service: ServiceKey, dest: DestinationSpec): Promise<void> {
    validateServiceKey(service);
    validateDestinationSpec(service, dest);
    await this.request(C.IPVS_CMD_NEW_DEST, [packServiceKey(service), packDestination(dest)])
      .catch((e) => explain(e, this.destMeanings(service, dest), `adding real server ${formatDestination(dest)}`));
  }

  async updateDestination(service: ServiceKey, dest: DestinationSpec): Promise<void> {
    validateServiceKey(service);
    validateDestinationSpec(service, dest);
    await this.request(C.IPVS_CMD_SET_DEST, [packServiceKey(service), packDestination(dest)])
      .catch((e) => explain(e, this.destMeanings(service, dest), `changing real server ${formatDestination(dest)}`));
  }

  async removeDestination(service: ServiceKey, dest: DestinationKey): Promise<void> {
    validateServiceKey(service);
    validateDestinationKey(service, dest);
    await this.request(C.IPVS_CMD_DEL_DEST, [packServiceKey(service), packDestinationKey(dest)])
      .catch((e) => explain(e, this.destMeanings(service, dest), `removing real server ${formatDestination(dest)}`));
  }

  async flush(): Promise<void> {
    await this.request(C.IPVS_CMD_FLUSH).catch((e) => explain(e, {}, 'flushing the IPVS table'));
  }

  async zero(key?: ServiceKey): Promise<void> {
    if (key) validateServiceKey(key);
    const label = key ? `virtual service ${formatServiceKey(key)}` : 'all services';
    await this.request(C.IPVS_CMD_ZERO, key ? [packServiceKey(key)] : [])
      .catch((e) => explain(e, { ESRCH: ['service_not_found', `${label} does not exist`] }, `zeroing counters of ${label}`));
  }

  async getTimeouts(): Promise<Timeouts> {
    const [reply] = await this.request(C.IPVS_CMD_GET_CONFIG).catch((e) => explain(e, {}, 'reading timeouts'));
    if (!reply) throw new IpvsError('malformed_reply', 'malformed IPVS reply: GET_CONFIG returned nothing');
    return unpackTimeouts(reply);
  }

  async setTimeouts(t: Partial<Timeouts>): Promise<void> {
    validateTimeouts(t);
    await this.request(C.IPVS_CMD_SET_CONFIG, [packTimeouts(t)]).catch((e) => explain(e, {
      EINVAL: ['invalid', `the kernel refused timeouts ${JSON.stringify(t)}: too large for its clock (INT_MAX / HZ)`],
    }, 'setting timeouts'));
  }

  async listDaemons(): Promise<SyncDaemon[]> {
    const replies = await this.request(C.IPVS_CMD_GET_DAEMON, [], true).catch((e) => explain(e, {}, 'listing sync daemons'));
    return replies.map(unpackDaemonMessage);
  }

  async startDaemon(cfg: SyncDaemonConfig): Promise<void> {
    validateDaemonConfig(cfg);
    await this.request(C.IPVS_CMD_NEW_DAEMON, [packDaemon(cfg)]).catch((e) => explain(e, {
      EEXIST: ['daemon_exists', `a ${cfg.state} sync daemon already runs`],
      ENODEV: ['invalid', `interface ${cfg.interface} does not exist`],
      EINVAL: ['invalid', `the kernel refused the ${cfg.state} sync daemon on ${cfg.interface} (EINVAL: group not multicast, or real servers of mixed families exist)`],
    }, `starting the ${cfg.state} sync daemon`));
  }

  async stopDaemon(state: SyncState): Promise<void> {
    await this.request(C.IPVS_CMD_DEL_DAEMON, [packDaemonState(state)])
      .catch((e) => explain(e, { ESRCH: ['daemon_not_running', `no ${state} sync daemon runs`] }, `stopping the ${state} sync daemon`));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of [this.lane, ...this.dumpLanes]) l.sock.close();
  }
}
