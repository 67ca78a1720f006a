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
import type { NetlinkMessage } from 'netlink';
import { PLAIN_SERVICE_COLS, type IpvsBackend, type PlainServices } from '@/lib/ipvs/backend';
import {
  packDaemon, packDaemonState, packDestination, packDestinationKey, packGenlMessage, packGetFamily, packService,
  packServiceKey, packTimeouts, unpackDaemonMessage, unpackDestinationMessage, unpackFamily,
  genlAttrs, isPlainServiceReply, unpackInfo, unpackServiceMessage, unpackServiceSpecMessage, unpackTimeouts,
} from '@/lib/ipvs/codec';
import * as C from '@/lib/ipvs/constants';
import { IpvsError, type IpvsErrorCode } from '@/lib/ipvs/errors';
import { formatDestination, formatServiceKey } from '@/lib/ipvs/format';
import { serviceId } from '@/lib/ipvs/ids';
import {
  SCHEDULERS, type DestinationKey, type DestinationSpec, type DestinationState, type IpvsInfo, type ServiceEntry,
  type ServiceKey, type ServiceSpec, type ServiceState, type SyncDaemon, type SyncDaemonConfig, type SyncState,
  type Timeouts,
} from '@/lib/ipvs/model';
import {
  validateDaemonConfig, validateDestinationKey, validateDestinationSpec, validateServiceKey, validateServiceSpec,
  validateTimeouts,
} from '@/lib/ipvs/validate';
import { netlink } from './netlink-module';

const { NetlinkSocket, parseError, Protocol, RawNetlinkSocket } = netlink;

export interface NetlinkIpvsOptions {
  /** Per-request timeout, ms. */
  timeoutMs?: number;
  /** Sockets used in parallel for the per-service destination dumps of dump(). */
  dumpConcurrency?: number;
  /**
   * Keep each dump's replies to give the same objects again for replies that did not change (default true:
   * a reader that dumps again and again, the agent). A command that reads the table once passes false: the
   * copies and the map of 10,000 services would only cost it time.
   */
  reuse?: boolean;
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

/** One IPVS write, for writeBatch: the same six changes the IpvsBackend methods make. */
export type IpvsWrite =
  | { kind: 'addService' | 'updateService'; spec: ServiceSpec }
  | { kind: 'removeService'; key: ServiceKey }
  | { kind: 'addDestination' | 'updateDestination'; service: ServiceKey; dest: DestinationSpec }
  | { kind: 'removeDestination'; service: ServiceKey; dest: DestinationKey };

/** Per write of a batch: 'ok', the error that refused it, or undefined when it was never sent. */
export type IpvsWriteResult = 'ok' | IpvsError | Error | undefined;

/** A backend that can send many writes in one datagram (server/snapshot/apply.ts uses it when present). */
export interface IpvsBatchWriter {
  writeBatch(writes: readonly IpvsWrite[]): Promise<IpvsWriteResult[]>;
}

export function isBatchWriter(b: unknown): b is IpvsBatchWriter {
  return typeof (b as Partial<IpvsBatchWriter> | null)?.writeBatch === 'function';
}

/** Writes per datagram: every refusal comes back with the request echoed, and 64 of those fit the default receive buffer. */
export const WRITE_BATCH = 64;

const NLMSG_HDRLEN = 16;
const NLM_F_REQUEST = 0x1, NLM_F_ACK = 0x4;

type Reply = NetlinkMessage[];

/** The package's socket with a request path of its own: a reply callback under a sequence number, and no timer. */
class LaneSocket extends NetlinkSocket {
  /** Registers `cb` for the reply to the request about to be sent with the returned sequence number (the socket stays referenced meanwhile). */
  expect(cb: (err: Error | null, msgs?: Reply) => void): number {
    const seq = this.generateSeq();
    return this.makeRef(seq, (err, msgs) => {
      this.dropRef(seq);
      cb(err, msgs);
    });
  }

  /** Stops waiting for a reply (a timed-out or unsent request); a reply that comes later is dropped. */
  forget(seq: number): void {
    if (this.requests.has(seq)) this.dropRef(seq);
  }
}

/** A request the kernel did not answer within the lane's time limit. */
export class RequestTimeout extends Error {}

/** One netlink socket and the order of the requests on it (exported for its unit test). */
export class Lane {
  private tail: Promise<unknown> = Promise.resolve();
  /** non-dump requests started since the last dump, which the next dump must wait for */
  private shared = new Set<Promise<unknown>>();
  /** requests waiting for their reply, by sequence number: the watchdog tick they started in, and how to fail them */
  private readonly waiting = new Map<number, { tick: number; fail: (e: Error) => void }>();
  private watchdog: NodeJS.Timeout | undefined;
  private ticks = 0;

  /** The socket's netlink port, asked once: the package otherwise asks the kernel (getsockname) on every send. */
  readonly port: number;

  constructor(readonly sock: LaneSocket, readonly timeoutMs: number) {
    this.port = sock.address().port;
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

  /**
   * Sends one request and resolves with its reply (every message of a dump, the DONE left out).
   * The package's own request() arms a timer per request, and arming one reads the clock: a system
   * call, which in the lab kernel is a trap, 10,000 of them in one `list --stats` of 10,000 services.
   * Here one watchdog per lane ticks every half time limit while requests wait, and fails a request
   * still waiting three ticks after it was sent: after 1 to 1.5 times the limit.
   */
  ask(type: number, payload: Buffer, flags: number): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const seq = this.sock.expect((err, msgs) => {
        this.waiting.delete(seq);
        if (err) reject(err); else resolve(msgs!);
      });
      this.waiting.set(seq, { tick: this.ticks, fail: reject });
      this.watchdog ??= setInterval(() => this.tick(), this.timeoutMs / 2).unref();
      this.sock.send(type, payload, { flags: flags | NLM_F_REQUEST | NLM_F_ACK, seq, localPort: this.port }, (e) => {
        if (!e) return;
        this.sock.forget(seq);
        this.waiting.delete(seq);
        reject(e);
      });
    });
  }

  private tick(): void {
    this.ticks++;
    if (this.waiting.size === 0) {
      clearInterval(this.watchdog);
      this.watchdog = undefined;
      return;
    }
    for (const [seq, w] of this.waiting) {
      if (this.ticks - w.tick < 3) continue;
      this.sock.forget(seq);
      this.waiting.delete(seq);
      w.fail(new RequestTimeout());
    }
  }

  close(): void {
    clearInterval(this.watchdog);
    this.sock.close();
  }
}

/**
 * No message peeking: by default the netlink package reads each datagram twice (a peek for its size, then
 * the read). With a buffer of its own each datagram is one recvmsg: `director list --stats` of 1,000 × 4
 * made 2,528 recvmsg calls instead of 4,723 (strace in the lab). Every system call counts in the lab's
 * user-mode kernel (a trap through the host's ptrace).
 *
 * The size: the kernel sizes a dump's datagrams to the reader's last recvmsg length (at least one page,
 * at most 32 kB), so no datagram outgrows the buffer. Each receive allocates the whole buffer outside
 * V8's heap until the next GC, while IPVS replies are mostly a few hundred bytes, so the buffer is kept
 * small; 8 kB keeps a 1,000-service dump at about 25 datagrams. (The agent's RSS under traffic measured
 * 153 MB with 64 kB and 160 MB with 8 kB: the buffer is not what drives it.)
 */
const RECV_BUFFER = 8 * 1024;

function openLane(timeoutMs: number): Lane {
  // messagePeeking and msgBufferSize are options of the package's native socket its typings leave out
  const opts = { messagePeeking: false, msgBufferSize: RECV_BUFFER } as unknown as ConstructorParameters<typeof RawNetlinkSocket>[1];
  return new Lane(new LaneSocket(new RawNetlinkSocket(Protocol.GENERIC, opts)), timeoutMs);
}

async function rawRequest(lane: Lane, familyId: number, payload: Uint8Array, dump: boolean, cmd: number): Promise<Uint8Array[]> {
  return (dump ? lane.run.bind(lane) : lane.runShared.bind(lane))(async () => {
    let msgs;
    try {
      msgs = await lane.ask(familyId, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), dump ? C.NLM_F_DUMP : 0);
    } catch (e) {
      if (e instanceof RequestTimeout) {
        throw new IpvsError('timeout', `the kernel did not answer IPVS command ${cmd} within ${lane.timeoutMs} ms`, undefined, { cause: e });
      }
      const text = (e as Error).message;
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
      // a plain view of the package's Buffer: every subarray of a Buffer runs Buffer's constructor, and the
      // codec takes several of each reply
      out.push(genlAttrs(m.data.buffer, m.data.byteOffset, m.data.byteLength));
    }
    return out;
  });
}

/** Resolves a generic-netlink family id; rejects with KernelError(ENOENT) when it is not registered. */
export async function resolveFamily(lane: Lane, name: string): Promise<number> {
  const [reply] = await rawRequest(lane, C.GENL_ID_CTRL, packGetFamily(name), false, C.CTRL_CMD_GETFAMILY);
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

/** services whose last GET_DEST replies are kept (about 1 kB each with four real servers) */
const DEST_MEMO_MAX = 50_000;

export class NetlinkIpvs implements IpvsBackend, IpvsBatchWriter {
  private readonly dumpLanes: Lane[] = [];
  private batchLane: Lane | undefined;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly dumpConcurrency: number;
  private readonly reuse: boolean;

  private constructor(private readonly lane: Lane, private readonly familyId: number, opts: NetlinkIpvsOptions) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.dumpConcurrency = Math.max(1, opts.dumpConcurrency ?? 16);
    this.reuse = opts.reuse ?? true;
  }

  /** Opens the socket and resolves the IPVS family. Kernel errors come back as KernelError. */
  static async connect(opts: NetlinkIpvsOptions = {}): Promise<NetlinkIpvs> {
    const lane = openLane(opts.timeoutMs ?? 30_000);
    try {
      const id = await resolveFamily(lane, C.IPVS_GENL_NAME);
      return new NetlinkIpvs(lane, id, opts);
    } catch (e) {
      lane.close();
      throw e;
    }
  }

  private request(cmd: number, attrs: Uint8Array[] = [], dump = false, lane = this.lane): Promise<Uint8Array[]> {
    if (this.closed) return Promise.reject(new IpvsError('internal', 'the IPVS handle is closed'));
    return rawRequest(lane, this.familyId, packGenlMessage(cmd, attrs), dump, cmd);
  }

  async info(): Promise<IpvsInfo> {
    const [reply] = await this.request(C.IPVS_CMD_GET_INFO).catch((e) => explain(e, {}, 'reading IPVS info'));
    if (!reply) throw new IpvsError('malformed_reply', 'malformed IPVS reply: GET_INFO returned nothing');
    return unpackInfo(reply);
  }

  /** the last service dump's replies and what they decoded to, by position (the kernel's hash order is stable) */
  private serviceMemo: { raw: Uint8Array[]; parsed: ServiceState[] } = { raw: [], parsed: [] };

  /**
   * Every service, in kernel order. A reply byte-identical to the one at the
   * same position in the previous dump gives that dump's object again (shared:
   * treat as read-only): under traffic on a few of 1,000 services, decoding
   * the attributes of every reply was most of a dump's cost, for objects equal
   * to the last ones. (The library hands each datagram over in its own buffer,
   * so the kept views are never overwritten.)
   */
  async listServices(): Promise<ServiceState[]> {
    return (await this.readServices()).parsed!;
  }

  /**
   * listServices, with each service's reply (its attributes) beside its object. `decode` false leaves the
   * objects to the caller (dump with reuse off decodes each one when it reads its real servers, so 10,000
   * decoded services are never held at once).
   */
  private async readServices(decode = true): Promise<{ raw: Uint8Array[]; parsed?: ServiceState[] }> {
    const replies = await this.serviceReplies();
    if (!this.reuse) return { raw: replies, parsed: decode ? replies.map(unpackServiceMessage) : undefined };
    const memo = this.serviceMemo;
    const parsed: ServiceState[] = new Array(replies.length);
    for (let i = 0; i < replies.length; i++) {
      const r = replies[i]!;
      const old = memo.raw[i];
      parsed[i] = old && old.length === r.length && Buffer.compare(old, r) === 0 ? memo.parsed[i]! : unpackServiceMessage(r);
    }
    this.serviceMemo = { raw: replies, parsed };
    return this.serviceMemo;
  }

  async listServiceSpecs(): Promise<ServiceSpec[]> {
    return (await this.serviceReplies()).map(unpackServiceSpecMessage);
  }

  async listServiceSpecsBeyond(known: PlainServices): Promise<(ServiceSpec | undefined)[]> {
    const replies = await this.serviceReplies();
    const specs: (ServiceSpec | undefined)[] = new Array(replies.length);
    for (let i = 0; i < replies.length; i++) {
      const c = i * PLAIN_SERVICE_COLS;
      const plain = i < known.count && known.cols[c] !== 0
        && isPlainServiceReply(replies[i]!, known.cols[c]!, known.cols[c + 1]!, known.cols[c + 2]!, known.schedulers[known.cols[c + 3]!]!);
      specs[i] = plain ? undefined : unpackServiceSpecMessage(replies[i]!);
    }
    return specs;
  }

  /** The GET_SERVICE dump's replies (each service's attributes), undecoded. */
  private serviceReplies(): Promise<Uint8Array[]> {
    return this.request(C.IPVS_CMD_GET_SERVICE, [], true).catch((e) => explain(e, {}, 'listing virtual services'));
  }

  async getService(key: ServiceKey): Promise<ServiceState> {
    validateServiceKey(key);
    const label = `virtual service ${formatServiceKey(key)}`;
    const [reply] = await this.request(C.IPVS_CMD_GET_SERVICE, [packServiceKey(key)])
      .catch((e) => explain(e, { ESRCH: ['service_not_found', `${label} does not exist`] }, `reading ${label}`));
    if (!reply) throw new IpvsError('malformed_reply', `malformed IPVS reply: GET_SERVICE for ${label} returned nothing`);
    return unpackServiceMessage(reply);
  }

  /** each service's last GET_DEST replies (copied) and what they decoded to, by position; cleared when it outgrows DEST_MEMO_MAX */
  private readonly destMemo = new Map<string, { raw: Buffer[]; parsed: DestinationState[] }>();

  /**
   * A service's real servers, in kernel order. As with listServices, a reply
   * byte-identical to the one at the same position in this service's
   * previous dump gives that dump's object again, and a dump identical to the
   * previous one gives the previous array itself (shared: treat as read-only).
   * The agent re-reads idle services in turn to catch changes only GET_DEST
   * shows; decoding those unchanged replies was half of what a quiet tick
   * allocated at 1,000 services (94 of 195 kB/s in the lab).
   */
  listDestinations(key: ServiceKey): Promise<DestinationState[]> {
    validateServiceKey(key);
    return this.readDestinations(key, packServiceKey(key), this.lane);
  }

  /** listDestinations for a key read from the kernel, asking with `serviceAttrs` (IPVS_CMD_ATTR_SERVICE and what else). */
  private async readDestinations(key: ServiceKey, serviceAttrs: Uint8Array, lane: Lane): Promise<DestinationState[]> {
    const replies = await this.request(C.IPVS_CMD_GET_DEST, [serviceAttrs], true, lane)
      .catch((e) => explain(e, {}, `listing real servers of virtual service ${formatServiceKey(key)}`));
    if (!this.reuse) return replies.map((r) => unpackDestinationMessage(r, key.family));
    const id = serviceId(key);
    const memo = this.destMemo.get(id);
    const raw: Buffer[] = new Array(replies.length);
    const parsed: DestinationState[] = new Array(replies.length);
    let same = !!memo && memo.raw.length === replies.length;
    for (let i = 0; i < replies.length; i++) {
      const r = replies[i]!;
      const old = memo?.raw[i];
      if (old && old.length === r.length && old.compare(r) === 0) {
        raw[i] = old;
        parsed[i] = memo!.parsed[i]!;
      } else {
        same = false;
        // a copy: a view would keep the whole receive buffer alive for as long as the service exists
        raw[i] = Buffer.from(r);
        parsed[i] = unpackDestinationMessage(r, key.family);
      }
    }
    if (same) return memo!.parsed;
    // removed services leave entries behind; starting over now and then bounds them
    if (!memo && this.destMemo.size >= DEST_MEMO_MAX) this.destMemo.clear();
    this.destMemo.set(id, { raw, parsed });
    return parsed;
  }

  /** Every service (kernel order) with its destinations; the GET_DEST dumps run on up to dumpConcurrency sockets. */
  async dump(each?: (entry: ServiceEntry) => void): Promise<ServiceEntry[]> {
    const { raw, parsed } = await this.readServices(false);
    const count = raw.length;
    const lanes = this.lanesFor(count);
    // without `each`, every entry; with it, only those read ahead of one not yet read
    const read: (ServiceEntry | undefined)[] = new Array(count);
    let next = 0, handed = 0;
    await Promise.all(lanes.map(async (lane) => {
      while (next < count) {
        const i = next++;
        const s = parsed?.[i] ?? unpackServiceMessage(raw[i]!);
        // each GET_DEST asks with the service's own GET_SERVICE reply: the kernel reads only the key from it,
        // and it spares packing and checking 10,000 keys the kernel just gave
        read[i] = { ...s, destinations: await this.readDestinations(s.key, raw[i]!, lane) };
        for (; each && handed < count && read[handed]; handed++) {
          each(read[handed]!);
          read[handed] = undefined;
        }
      }
    }));
    return each ? [] : read as ServiceEntry[];
  }

  private lanesFor(jobs: number): Lane[] {
    const want = Math.min(this.dumpConcurrency, jobs);
    while (this.dumpLanes.length < want) this.dumpLanes.push(openLane(this.timeoutMs));
    return this.dumpLanes.slice(0, want);
  }

  /** Validates one write and packs it; `fail` turns a kernel refusal into the IpvsError the single call would throw. */
  private prepare(w: IpvsWrite): { cmd: number; attrs: Uint8Array[]; fail: (e: unknown) => never } {
    switch (w.kind) {
      case 'addService':
      case 'updateService': {
        validateServiceSpec(w.spec);
        const label = `virtual service ${formatServiceKey(w.spec.key)}`;
        const add = w.kind === 'addService';
        return {
          cmd: add ? C.IPVS_CMD_NEW_SERVICE : C.IPVS_CMD_SET_SERVICE, attrs: [packService(w.spec)],
          fail: (e) => explain(e, add
            ? { EEXIST: ['service_exists', `${label} already exists`], ENOENT: ['unknown_scheduler', schedulerMessage(w.spec)] }
            : { ESRCH: ['service_not_found', `${label} does not exist`], ENOENT: ['unknown_scheduler', schedulerMessage(w.spec)] },
          `${add ? 'adding' : 'changing'} ${label}`),
        };
      }
      case 'removeService': {
        validateServiceKey(w.key);
        const label = `virtual service ${formatServiceKey(w.key)}`;
        return {
          cmd: C.IPVS_CMD_DEL_SERVICE, attrs: [packServiceKey(w.key)],
          fail: (e) => explain(e, { ESRCH: ['service_not_found', `${label} does not exist`] }, `removing ${label}`),
        };
      }
      case 'addDestination':
      case 'updateDestination': {
        validateServiceKey(w.service);
        validateDestinationSpec(w.service, w.dest);
        const add = w.kind === 'addDestination';
        return {
          cmd: add ? C.IPVS_CMD_NEW_DEST : C.IPVS_CMD_SET_DEST, attrs: [packServiceKey(w.service), packDestination(w.dest)],
          fail: (e) => explain(e, this.destMeanings(w.service, w.dest), `${add ? 'adding' : 'changing'} real server ${formatDestination(w.dest)}`),
        };
      }
      case 'removeDestination': {
        validateServiceKey(w.service);
        validateDestinationKey(w.service, w.dest);
        return {
          cmd: C.IPVS_CMD_DEL_DEST, attrs: [packServiceKey(w.service), packDestinationKey(w.dest)],
          fail: (e) => explain(e, this.destMeanings(w.service, w.dest), `removing real server ${formatDestination(w.dest)}`),
        };
      }
    }
  }

  private async write(w: IpvsWrite): Promise<void> {
    const { cmd, attrs, fail } = this.prepare(w);
    await this.request(cmd, attrs).catch(fail);
  }

  addService(spec: ServiceSpec): Promise<void> { return this.write({ kind: 'addService', spec }); }
  updateService(spec: ServiceSpec): Promise<void> { return this.write({ kind: 'updateService', spec }); }
  removeService(key: ServiceKey): Promise<void> { return this.write({ kind: 'removeService', key }); }

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

  addDestination(service: ServiceKey, dest: DestinationSpec): Promise<void> { return this.write({ kind: 'addDestination', service, dest }); }
  updateDestination(service: ServiceKey, dest: DestinationSpec): Promise<void> { return this.write({ kind: 'updateDestination', service, dest }); }
  removeDestination(service: ServiceKey, dest: DestinationKey): Promise<void> { return this.write({ kind: 'removeDestination', service, dest }); }

  /**
   * Sends the writes as one datagram of netlink messages on a socket of its
   * own. The kernel handles them one after another inside the send call and
   * carries on after a refusal, answering only refusals, plus an ACK for the
   * last message: once that ACK is in, every refusal is too. This replaces
   * one send and one receive per write by one of each per batch, which is
   * what restore's time goes to in user-mode Linux, where system calls are
   * slow. A write that fails validation ends the batch before it: it and
   * the writes after it come back undefined (not sent) or as its error.
   */
  async writeBatch(writes: readonly IpvsWrite[]): Promise<IpvsWriteResult[]> {
    if (this.closed) throw new IpvsError('internal', 'the IPVS handle is closed');
    const results: IpvsWriteResult[] = new Array(writes.length).fill(undefined);
    const prepared: ReturnType<NetlinkIpvs['prepare']>[] = [];
    for (const w of writes) {
      try { prepared.push(this.prepare(w)); } catch (e) { results[prepared.length] = e as Error; break; }
    }
    if (prepared.length === 0) return results;
    const lane = (this.batchLane ??= openLane(this.timeoutMs));
    const sock = lane.sock;
    const port = lane.port;
    const seqs = new Map<number, number>();
    const bodies = prepared.map((p) => packGenlMessage(p.cmd, p.attrs));
    let total = 0;
    for (const b of bodies) total += (NLMSG_HDRLEN + b.byteLength + 3) & ~3;
    const buf = Buffer.alloc(total);
    let off = 0;
    bodies.forEach((b, i) => {
      const seq = sock.generateSeq();
      seqs.set(seq, i);
      // little-endian nlmsghdr, as the host (x86/UML) orders it
      buf.writeUInt32LE(NLMSG_HDRLEN + b.byteLength, off);
      buf.writeUInt16LE(this.familyId, off + 4);
      buf.writeUInt16LE(NLM_F_REQUEST | (i === bodies.length - 1 ? NLM_F_ACK : 0), off + 6);
      buf.writeUInt32LE(seq, off + 8);
      buf.writeUInt32LE(port, off + 12);
      buf.set(b, off + NLMSG_HDRLEN);
      off += (NLMSG_HDRLEN + b.byteLength + 3) & ~3;
    });
    const lastSeq = [...seqs.keys()].at(-1)!;
    const refused = new Map<number, number>();
    await lane.run(() => new Promise<void>((resolve, reject) => {
      const done = (e?: Error) => {
        clearTimeout(timer);
        sock.off('message', onMessage);
        sock.off('error', onError);
        sock.ref(false);
        if (e) reject(e); else resolve();
      };
      const onMessage = (msgs: { type: number; flags: number; seq: number; data: Buffer }[]) => {
        for (const m of msgs) {
          const i = seqs.get(m.seq);
          if (i === undefined || m.type !== C.NLMSG_ERROR) continue;
          let errno: number;
          try { errno = parseError(m.data, m.flags).errno; } catch (e) {
            done(new IpvsError('malformed_reply', 'malformed IPVS reply: truncated netlink error message', undefined, { cause: e }));
            return;
          }
          if (errno !== 0) refused.set(i, -errno);
          if (m.seq === lastSeq) { done(); return; }
        }
      };
      const onError = (e: Error) => done(new IpvsError('internal', `netlink batch failed: ${e.message}`, undefined, { cause: e }));
      const timer = setTimeout(() => done(new IpvsError('timeout', `the kernel did not answer a batch of ${bodies.length} IPVS writes within ${this.timeoutMs} ms`)), this.timeoutMs);
      sock.ref(true);
      sock.on('message', onMessage);
      sock.on('error', onError);
      sock.socket.send(buf, { port: 0 }, (e) => { if (e) onError(e); });
    }));
    prepared.forEach((p, i) => {
      const errno = refused.get(i);
      if (errno === undefined) { results[i] = 'ok'; return; }
      try { p.fail(new KernelError(errno, p.cmd)); } catch (e) { results[i] = e as Error; }
    });
    return results;
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

  /**
   * In the lab kernel the acknowledgement of a daemon start was sometimes never read (twice in four runs after
   * the HA tests) although the daemon ran: after a timeout the daemon list decides whether the change happened.
   * False when it was no timeout or the list cannot be read.
   */
  private async landedDespiteTimeout(e: unknown, landed: (running: SyncDaemon[]) => boolean): Promise<boolean> {
    if (!(e instanceof IpvsError) || e.code !== 'timeout') return false;
    const running = await this.listDaemons().catch(() => null);
    return running !== null && landed(running);
  }

  async startDaemon(cfg: SyncDaemonConfig): Promise<void> {
    validateDaemonConfig(cfg);
    await this.request(C.IPVS_CMD_NEW_DAEMON, [packDaemon(cfg)]).catch(async (e) => {
      if (await this.landedDespiteTimeout(e, (ds) => ds.some((d) => d.state === cfg.state && d.interface === cfg.interface && d.syncId === cfg.syncId))) return;
      return explain(e, {
        EEXIST: ['daemon_exists', `a ${cfg.state} sync daemon already runs`],
        ENODEV: ['invalid', `interface ${cfg.interface} does not exist`],
        EINVAL: ['invalid', `the kernel refused the ${cfg.state} sync daemon on ${cfg.interface} (EINVAL: group not multicast, or real servers of mixed families exist)`],
      }, `starting the ${cfg.state} sync daemon`);
    });
  }

  async stopDaemon(state: SyncState): Promise<void> {
    await this.request(C.IPVS_CMD_DEL_DAEMON, [packDaemonState(state)]).catch(async (e) => {
      if (await this.landedDespiteTimeout(e, (ds) => !ds.some((d) => d.state === state))) return;
      return explain(e, { ESRCH: ['daemon_not_running', `no ${state} sync daemon runs`] }, `stopping the ${state} sync daemon`);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of [this.lane, ...this.dumpLanes, ...(this.batchLane ? [this.batchLane] : [])]) l.close();
  }
}
