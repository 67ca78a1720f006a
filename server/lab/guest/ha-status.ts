/**
 * HA mode's lab facts, read cheaply from files and /proc (no program
 * started: each exec costs about a second in a busy lab kernel). The agent
 * asking may itself sit in either director's namespace; everything here is
 * global (pids, /run) or read through a process inside the namespace meant.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseHostsFile } from '@/lib/ha/dns-answer';
import { HA_DIRECTORS, HA_LAB, HA_MM, HA_MM_VIPS, haFaultsOn, type HaDirectorName, type HaDownloads, type HaLabDirector, type HaLabStatus } from '@/lib/lab/ha-topology';
import { trafficSchema, type Traffic } from '@/lib/lab/traffic';

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return null;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

async function livePid(file: string): Promise<number | null> {
  const text = await readText(file);
  const pid = text === null ? NaN : Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/**
 * Local /32 addresses of a namespace, from the routing table as
 * /proc/PID/net/fib_trie shows it ("|-- ADDR" then "/32 host LOCAL").
 */
export function localAddresses(fibTrie: string): Set<string> {
  const out = new Set<string>();
  let last: string | null = null;
  for (const line of fibTrie.split('\n')) {
    const leaf = /\|-- (\d+\.\d+\.\d+\.\d+)$/.exec(line);
    if (leaf) { last = leaf[1]!; continue; }
    if (last && /^\s+\/32 host LOCAL/.test(line)) out.add(last);
  }
  return out;
}

/**
 * The last add and delete of `address` in `ip -ts -o monitor address` output
 * ("[2026-12-01T22:30:36.454400] 3: lan0    inet 192.168.150.100/32 ..." or
 * "[...] Deleted 3: lan0    inet ..."), as guest-clock milliseconds.
 */
export function addressEvents(log: string, address: string): { addedAt: number | null; removedAt: number | null } {
  let addedAt: number | null = null;
  let removedAt: number | null = null;
  const re = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\] (Deleted )?\d+: \S+\s+inet (\S+?)\//;
  for (const line of log.split('\n')) {
    const m = re.exec(line);
    if (!m || m[3] !== address) continue;
    // the monitor prints the guest's local time; Date reads a zone-less ISO date-time as local too
    const at = new Date(m[1]!.slice(0, 23)).getTime();
    if (m[2]) removedAt = at;
    else addedAt = at;
  }
  return { addedAt, removedAt };
}

/** Every process called `name` whose network namespace is the one bound at `nsFile`. */
async function pidsInNamespace(name: string, nsFile: string): Promise<number[]> {
  let ns: { dev: number; ino: number };
  try {
    ns = await stat(nsFile);
  } catch {
    return [];
  }
  const entries = (await readdir('/proc')).filter((e) => /^\d+$/.test(e));
  const found = await Promise.all(entries.map(async (e) => {
    const comm = await readText(`/proc/${e}/comm`);
    if (comm?.trim() !== name) return null;
    try {
      const s = await stat(`/proc/${e}/ns/net`);
      return s.ino === ns.ino && s.dev === ns.dev ? Number(e) : null;
    } catch {
      return null;
    }
  }));
  return found.filter((p): p is number => p !== null).sort((a, b) => a - b);
}

async function director(stateDir: string, d: (typeof HA_DIRECTORS)[number], mm: boolean): Promise<HaLabDirector> {
  const dir = path.join(stateDir, d.name);
  const [loop, agentPid, held, noHa, keepalivedPids, addrLog] = await Promise.all([
    livePid(path.join(dir, 'loop.pid')),
    livePid(path.join(dir, 'agent.pid')),
    exists(path.join(dir, 'held')),
    exists(path.join(dir, 'no-ha')),
    pidsInNamespace('keepalived', `/run/netns/${d.name}`),
    readText(path.join(dir, 'addr-events.log')),
  ]);
  const vip = addressEvents(addrLog ?? '', HA_LAB.vip);
  const trie = loop === null ? null : await readText(`/proc/${loop}/net/fib_trie`);
  const local = trie === null ? new Set<string>() : localAddresses(trie);
  const addressesPresent = [HA_LAB.vip, HA_LAB.gateway].filter((a) => local.has(a));
  const vipEvents = mm
    ? Object.fromEntries(HA_MM_VIPS.map((a) => {
      const e = addressEvents(addrLog ?? '', a);
      return [a, { present: local.has(a), addedAt: e.addedAt, removedAt: e.removedAt }];
    }))
    : undefined;
  return {
    name: d.name, lanAddress: d.lanAddress, running: loop !== null, agentPid, held, haDisabled: noHa,
    keepalivedPids, addressesPresent: mm ? HA_MM_VIPS.filter((a) => local.has(a)) : addressesPresent, holdsVip: local.has(HA_LAB.vip),
    vipAddedAt: vip.addedAt, vipRemovedAt: vip.removedAt, ...(vipEvents ? { vipEvents } : {}),
  };
}

/** The DNS records file as the agents wrote it, and when. */
async function dnsRecords(stateDir: string): Promise<{ addresses: string[] | null; changedAt: number | null }> {
  // HA_MM.hostsFile when the state folder is the default /run/director-lab (ha-topology.sh: $DNS_DIR/hosts)
  const file = path.join(stateDir, 'dns', 'hosts');
  try {
    const [text, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    return { addresses: parseHostsFile(text, HA_MM.dnsName) ?? [], changedAt: st.mtimeMs };
  } catch {
    return { addresses: null, changedAt: null };
  }
}

export async function readHaLabStatus(stateDir: string): Promise<HaLabStatus> {
  const mm = await exists(path.join(stateDir, 'ha-mm'));
  const [directors, heartbeatCut, zkPid, baseline, downloadsText, trafficText, markers] = await Promise.all([
    Promise.all(HA_DIRECTORS.map((d) => director(stateDir, d, mm))),
    exists(path.join(stateDir, 'faults', 'cut-heartbeat')),
    livePid(path.join(stateDir, 'zk', 'pid')),
    exists(path.join(stateDir, 'faults', 'baseline')),
    readText(path.join(stateDir, 'downloads.json')),
    readText(path.join(stateDir, 'traffic.json')),
    readdir(path.join(stateDir, 'faults')).catch(() => [] as string[]),
  ]);
  let traffic: Traffic | null = null;
  try {
    traffic = trafficText ? trafficSchema.parse(JSON.parse(trafficText)) : null;
  } catch { /* being replaced: next read */ }
  let downloads: HaDownloads | null = null;
  try {
    downloads = downloadsText ? (JSON.parse(downloadsText) as HaDownloads) : null;
  } catch { /* being replaced: next read */ }
  const vipHolders = directors.filter((d) => d.holdsVip).map((d) => d.name as HaDirectorName);
  return {
    at: Date.now(),
    directors,
    vipHolders,
    splitBrain: vipHolders.length > 1,
    heartbeatCut,
    faultsOn: haFaultsOn(markers),
    zookeeper: { address: HA_LAB.zookeeper, pid: zkPid, running: zkPid !== null },
    baseline,
    downloads,
    traffic,
    masterMaster: mm ? {
      vips: HA_MM_VIPS.map((address) => ({ address, holders: directors.filter((d) => d.vipEvents?.[address]?.present).map((d) => d.name as HaDirectorName) })),
      dns: { name: HA_MM.dnsName, ...(await dnsRecords(stateDir)) },
    } : null,
  };
}
