/**
 * Keeps the DNS name in front of master-master directors pointing at the VIPs
 * that have a master in service: regenerates the DNS server's records file
 * (dnsmasq's --addn-hosts) and sends the server SIGHUP, which re-reads it. No
 * shell: a file written atomically and a signal to a pid checked to be
 * dnsmasq (a stale or planted pid file must not make the agent signal
 * anything else). It also asks the server what the name resolves to, for the
 * HA panel.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { Resolver } from 'node:dns/promises';
import path from 'node:path';
import type { HaDnsConfig } from '@/lib/schemas/ha';
import { formatHostsFile, parseHostsFile } from '@/lib/ha/dns-answer';

/** Not more often than this, the DNS server is asked what the name resolves to. */
const RESOLVE_EVERY_MS = 1000;
const DNS_PROCESS = 'dnsmasq';

const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The pid in `pidFile` if that process is dnsmasq; otherwise an Error saying why not. */
export async function dnsServerPid(pidFile: string): Promise<number> {
  const text = (await readFile(pidFile, 'utf8')).slice(0, 32).trim();
  if (!/^\d{1,9}$/.test(text) || Number(text) < 2) throw new Error(`${pidFile} holds no pid ('${text.slice(0, 20)}')`);
  const pid = Number(text);
  let comm: string;
  try {
    comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch {
    throw new Error(`${pidFile}: no process ${pid} (the DNS server is not running?)`);
  }
  if (comm !== DNS_PROCESS) throw new Error(`${pidFile}: process ${pid} is '${comm.slice(0, 16)}', not ${DNS_PROCESS}: not signalled`);
  return pid;
}

export interface DnsState {
  published: string[];
  publishedAt: number | null;
  resolved: string[] | null;
  resolvedAt: number | null;
  error: string | null;
}

export class DnsPublisher {
  readonly state: DnsState = { published: [], publishedAt: null, resolved: null, resolvedAt: null, error: null };
  private resolving = false;
  private lastResolve = 0;
  private readonly resolver: Resolver;

  constructor(readonly cfg: HaDnsConfig, private readonly onResolved: () => void = () => {}) {
    this.resolver = new Resolver({ timeout: 1000, tries: 1 });
    this.resolver.setServers([cfg.port === 53 ? cfg.server : `${cfg.server}:${cfg.port}`]);
  }

  /**
   * Makes the records say `addresses`. Returns the addresses the file held before when it changed them
   * (null: nothing to do). Errors are kept in the state, not thrown: DNS is advice to clients, and a
   * failure here must not stop the director's own HA decisions.
   */
  /** What the records file says now (a file that is not ours, or none: nothing). */
  current(): Promise<string[]> {
    return readFile(this.cfg.hostsFile, 'utf8').then((t) => parseHostsFile(t, this.cfg.name) ?? [], () => []);
  }

  async publish(addresses: string[]): Promise<string[] | null> {
    const { hostsFile, name } = this.cfg;
    const current = await this.current();
    if (same(current, addresses)) {
      // already so (the peer wrote it, or nothing changed)
      if (this.state.publishedAt === null || !same(this.state.published, addresses)) {
        this.state.published = [...addresses];
        this.state.publishedAt = Date.now();
      }
      this.resolveSoon();
      return null;
    }
    try {
      {
        const tmp = path.join(path.dirname(hostsFile), `.${path.basename(hostsFile)}.${process.pid}.tmp`);
        // readable by the DNS server, which drops its privileges: these are public records
        await writeFile(tmp, formatHostsFile(name, addresses), { mode: 0o644 });
        await rename(tmp, hostsFile);
        process.kill(await dnsServerPid(this.cfg.pidFile), 'SIGHUP');
      }
      this.state.published = [...addresses];
      this.state.publishedAt = Date.now();
      this.state.error = null;
      this.lastResolve = 0;
      this.resolveSoon();
      return current;
    } catch (e) {
      this.state.error = `DNS records for ${name}: ${(e as Error).message}`;
      return null;
    }
  }

  /** Ask the DNS server what the name resolves to (at most once a second, one question at a time). */
  resolveSoon(): void {
    if (this.resolving || Date.now() - this.lastResolve < RESOLVE_EVERY_MS) return;
    this.resolving = true;
    this.lastResolve = Date.now();
    this.resolver.resolve4(this.cfg.name)
      .then((a) => a.sort(), (e: NodeJS.ErrnoException) => {
        // the name exists without an address, or not at all: it resolves to nothing
        if (e.code === 'ENODATA' || e.code === 'ENOTFOUND') return [];
        throw e;
      })
      .then((a) => {
        this.state.resolved = a;
        this.state.resolvedAt = Date.now();
      }, (e: Error) => {
        this.state.resolved = null;
        this.state.error = `asking ${this.cfg.server} for ${this.cfg.name}: ${e.message}`;
      })
      .finally(() => {
        this.resolving = false;
        this.onResolved();
      });
  }

  close(): void {
    this.resolver.cancel();
  }
}
