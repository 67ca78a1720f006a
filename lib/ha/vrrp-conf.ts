/**
 * HaConfig -> keepalived.conf for the VRRP half only (keepalived runs with -P:
 * the agent owns the IPVS table). Each group's fencing and lease steering go
 * through track_file: keepalived watches them with inotify, so the agent's
 * decision reaches VRRP without a reload or a script poll.
 */
import type { HaConfig, VrrpGroup } from '../schemas/ha';

/** Added to the lease holder's priority (file value 1 x weight). 254 caps the sum. */
export const LEASE_WEIGHT = 100;

export interface VrrpPaths {
  notifyFifo: string;
  fenceFile(group: string): string;
  leaseFile(group: string): string;
}

export function vrrpPaths(runDir: string): VrrpPaths {
  const dir = runDir.replace(/\/+$/, '');
  return {
    notifyFifo: `${dir}/notify.fifo`,
    fenceFile: (g) => `${dir}/fence-${g}`,
    leaseFile: (g) => `${dir}/lease-${g}`,
  };
}

export const instanceName = (group: string): string => `VI_${group}`;

/** keepalived takes the advert interval in seconds; VRRPv3 allows centiseconds. */
function seconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(2)));
}

function vipWithPrefix(vip: string): string {
  return vip.includes('/') ? vip : `${vip}/32`;
}

/**
 * Problems keepalived would only log (and then run with something else):
 * said up front so the agent refuses to start with them.
 */
export function checkVrrpConfig(cfg: HaConfig): string[] {
  const errors: string[] = [];
  const names = new Set<string>();
  const vrids = new Map<string, string>();
  for (const [i, g] of cfg.groups.entries()) {
    const at = `groups[${i}] (${g.name})`;
    if (names.has(g.name)) errors.push(`${at}: group name '${g.name}' is used twice`);
    names.add(g.name);
    const hb = g.heartbeatInterface ?? g.interface;
    const vridKey = `${hb}/${g.virtualRouterId}`;
    const other = vrids.get(vridKey);
    if (other) errors.push(`${at}: virtualRouterId ${g.virtualRouterId} on ${hb} is already used by group '${other}'`);
    vrids.set(vridKey, g.name);
    if (g.priority + LEASE_WEIGHT > 254) {
      errors.push(`${at}: priority ${g.priority} + lease bonus ${LEASE_WEIGHT} exceeds 254; use a priority of at most ${254 - LEASE_WEIGHT}`);
    }
    if (g.advertIntervalMs % 10 !== 0) errors.push(`${at}: advertIntervalMs ${g.advertIntervalMs} is not a multiple of 10 ms (VRRPv3 counts centiseconds)`);
    if (g.unicastPeers.length > 0 && !g.unicastSourceIp) errors.push(`${at}: unicastPeers need unicastSourceIp (this director's address on ${hb})`);
    for (const v of g.vips) {
      const [addr, prefix] = v.split('/');
      if (addr!.split('.').some((o) => Number(o) > 255)) errors.push(`${at}: VIP '${v}' is not an IPv4 address`);
      if (prefix !== undefined && Number(prefix) > 32) errors.push(`${at}: VIP '${v}' has a prefix over 32`);
    }
  }
  return errors;
}

function instanceBlock(g: VrrpGroup): string[] {
  const hb = g.heartbeatInterface ?? g.interface;
  const lines = [
    `vrrp_instance ${instanceName(g.name)} {`,
    // every director starts as BACKUP: who becomes master is VRRP's (and the lease's) decision, not the start order
    '  state BACKUP',
    `  interface ${hb}`,
  ];
  if (g.unicastSourceIp) lines.push(`  unicast_src_ip ${g.unicastSourceIp}`);
  if (g.unicastPeers.length > 0) {
    lines.push('  unicast_peer {', ...g.unicastPeers.map((p) => `    ${p}`), '  }');
  }
  lines.push(
    `  virtual_router_id ${g.virtualRouterId}`,
    `  priority ${g.priority}`,
    `  advert_int ${seconds(g.advertIntervalMs)}`,
  );
  if (!g.preempt) lines.push('  nopreempt');
  lines.push('  virtual_ipaddress {', ...g.vips.map((v) => `    ${vipWithPrefix(v)} dev ${g.interface}`), '  }');
  lines.push('  track_file {', `    fence_${g.name}`, `    lease_${g.name}`, '  }', '}');
  return lines;
}

export function formatVrrpConfig(cfg: HaConfig, runDir: string): string {
  const p = vrrpPaths(runDir);
  const out = [
    `# written by the Director agent for ${cfg.director}; changes here are overwritten`,
    'global_defs {',
    `  router_id ${cfg.director}`,
    // sub-second adverts exist only in VRRPv3
    '  vrrp_version 3',
    // keep re-announcing the VIPs while master: after a split brain, or a SIGKILLed master that kept
    // its VIPs, neighbours (real servers using the NAT gateway, the router) may still point at the
    // other director's MAC; a gratuitous ARP every 2 s moves them back without waiting for ARP expiry
    '  vrrp_garp_master_refresh 2',
    `  notify_fifo ${p.notifyFifo}`,
    '}',
  ];
  for (const g of cfg.groups) {
    out.push(
      '',
      // weight 0: any non-zero value puts the instance in FAULT, which drops the VIPs
      `track_file fence_${g.name} {`,
      `  file ${p.fenceFile(g.name)}`,
      '  weight 0',
      // start fenced: the agent lifts the fence only once it knows who holds the lease. Not `overwrite`:
      // a reload (SIGHUP) would then fence a serving master. The agent writes both files before starting keepalived.
      '  init_file 1',
      '}',
      `track_file lease_${g.name} {`,
      `  file ${p.leaseFile(g.name)}`,
      `  weight ${LEASE_WEIGHT}`,
      '  init_file 0',
      '}',
    );
  }
  for (const g of cfg.groups) out.push('', ...instanceBlock(g));
  return out.join('\n') + '\n';
}

export type NotifyEvent =
  | { kind: 'instance'; instance: string; group: string | null; state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'; priority: number }
  | { kind: 'other'; line: string };

/** One notify_fifo line, e.g. `INSTANCE "VI_lan" MASTER 150`. */
export function parseNotifyLine(line: string): NotifyEvent | null {
  const t = line.trim();
  if (t === '') return null;
  const m = /^INSTANCE\s+"([^"]+)"\s+(MASTER|BACKUP|FAULT|STOP)\s+(\d+)$/.exec(t);
  if (!m) return { kind: 'other', line: t };
  const instance = m[1]!;
  return {
    kind: 'instance',
    instance,
    group: instance.startsWith('VI_') ? instance.slice(3) : null,
    state: m[2] as 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP',
    priority: Number(m[3]),
  };
}
