/**
 * The agent's entry in the ZooKeeper registry (lib/enroll/registry.ts): an
 * ephemeral `<root>/registry/<director>` holding an enrollment code made by
 * the same path as `director agent enroll`. A fresh code replaces it once it
 * was redeemed or has expired; the code replaced, and the last one when the
 * agent stops, is voided. The node has the session's ACL: the cluster's digest
 * identity alone may read it, which is what keeps the secret.
 */
import type { Logger } from 'pino';
import { decodeCode } from '@/lib/enroll/code';
import {
  encodeRegistryData, MAX_REGISTRY_ENTRIES, parseRegistryNode, REGISTRY_CODE_TTL_MS, registryPaths, type RegistryListing,
} from '@/lib/enroll/registry';
import { claimSecret, createEnrollment, enrollmentPending } from '../api/enroll';
import { isNodeExists, isNoNode, type ZkSession } from './zookeeper';

export type RegistryZk = Pick<ZkSession, 'state' | 'generation' | 'get' | 'create' | 'set_' | 'remove' | 'children' | 'mkdirp' | 'ownedByMe'>;

/** How often the entry is looked at (code still pending, node still there and ours). */
export const REGISTRATION_CHECK_MS = 5000;

export interface RegistrationOptions {
  root: string;
  director: string;
  /** the agent's state folder: where the code's pending entry goes, as with `director agent enroll` */
  stateDir: string;
  /** where consoles reach this agent (https) and its certificate's fingerprint */
  url: string;
  fingerprint: string;
  log: Logger;
  ttlMs?: number;
  checkEveryMs?: number;
  now?: () => number;
}

export class Registration {
  private code: { text: string; secret: string } | null = null;
  private generation = -1;
  private checkedAt = -Infinity;
  private busy: Promise<void> | null = null;
  private closed = false;
  lastError: string | null = null;

  constructor(private readonly o: RegistrationOptions) {}

  private get path(): string {
    return registryPaths(this.o.root).entry(this.o.director);
  }

  /** Called from the HA loop: looks at the entry on a new session and every few seconds. */
  attach(zk: RegistryZk): void {
    if (this.closed || this.busy || zk.state !== 'connected') return;
    const now = (this.o.now ?? Date.now)();
    if (zk.generation === this.generation && now - this.checkedAt < (this.o.checkEveryMs ?? REGISTRATION_CHECK_MS)) return;
    this.checkedAt = now;
    this.busy = this.sync(zk)
      .then(() => { this.lastError = null; })
      .catch((e: unknown) => {
        this.lastError = (e as Error).message;
        this.o.log.warn({ err: e }, 'ZooKeeper registration');
      })
      .finally(() => { this.busy = null; });
  }

  /** For tests and stop(): the look in flight, if any. */
  settled(): Promise<void> {
    return this.busy ?? Promise.resolve();
  }

  async sync(zk: RegistryZk): Promise<void> {
    const now = (this.o.now ?? Date.now)();
    if (!this.code || !(await enrollmentPending(this.o.stateDir, this.code.secret, now))) {
      if (this.code) await claimSecret(this.o.stateDir, this.code.secret, now).catch(() => {});
      const { code } = await createEnrollment({
        stateDir: this.o.stateDir, url: this.o.url, fingerprint: this.o.fingerprint, ttlMs: this.o.ttlMs ?? REGISTRY_CODE_TTL_MS, now,
      });
      this.code = { text: code, secret: decodeCode(code).secret };
      this.o.log.info({ path: this.path }, 'registered in ZooKeeper with a fresh enrollment code');
    }
    const data = Buffer.from(encodeRegistryData(this.code.text));
    if (zk.generation !== this.generation) await zk.mkdirp(registryPaths(this.o.root).dir);
    const gen = zk.generation;
    const cur = await zk.get(this.path);
    if (cur && !zk.ownedByMe(cur.stat)) {
      // left by this agent's previous session, or written by someone else: the entry is ours to keep
      await zk.remove(this.path, cur.stat.version).catch((e: unknown) => { if (!isNoNode(e)) throw e; });
    }
    if (cur && zk.ownedByMe(cur.stat)) {
      if (!cur.data || !data.equals(cur.data)) await zk.set_(this.path, data, cur.stat.version);
    } else {
      await zk.create(this.path, data, true).catch((e: unknown) => { if (!isNodeExists(e)) throw e; });
    }
    this.generation = gen;
  }

  /** Voids the code in ZooKeeper (the node goes with the session). */
  async close(): Promise<void> {
    this.closed = true;
    await this.busy;
    if (this.code) await claimSecret(this.o.stateDir, this.code.secret).catch(() => {});
    this.code = null;
  }
}

/** The registry's entries as ZooKeeper has them, malformed ones skipped with why. */
export async function listRegistry(zk: Pick<ZkSession, 'children' | 'get'>, root: string): Promise<RegistryListing> {
  const p = registryPaths(root);
  const names = (await zk.children(p.dir)).sort();
  const out: RegistryListing = { entries: [], skipped: [] };
  for (const name of names.slice(0, MAX_REGISTRY_ENTRIES)) {
    const node = await zk.get(p.entry(name)).catch(() => null);
    if (!node) continue; // gone meanwhile
    const r = parseRegistryNode(name, node.data);
    if ('entry' in r) out.entries.push(r.entry);
    else out.skipped.push({ node: name.slice(0, 200), reason: r.reason });
  }
  if (names.length > MAX_REGISTRY_ENTRIES) {
    out.skipped.push({ node: `(${names.length - MAX_REGISTRY_ENTRIES} more)`, reason: `only the first ${MAX_REGISTRY_ENTRIES} entries are read` });
  }
  return out;
}
