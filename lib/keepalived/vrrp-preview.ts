/**
 * keepalived's vrrp_instance blocks, read as the HA configuration they would
 * become in Director (one VIP group each). A preview only: Director's HA is
 * set in the agent's configuration file, where the director's own addresses
 * and ZooKeeper are known, so an import never changes it.
 */
import { vrrpGroupSchema, type VrrpGroup } from '../schemas/ha';
import { readStatements, type Diagnostic, type Stmt } from './lex';

export interface VrrpPreview {
  instance: string;
  line: number;
  /** the group as Director's agent.toml would hold it (valid or not) */
  group: Partial<VrrpGroup> & { name: string };
  /** why the agent would refuse it, one line each */
  issues: string[];
  /** what keepalived does that Director does differently */
  notes: string[];
}

const first = (s: Stmt | undefined) => s?.args[0];

export function vrrpPreview(text: string, file = 'keepalived.conf'): VrrpPreview[] {
  const errors: Diagnostic[] = [];
  const out: VrrpPreview[] = [];
  for (const s of readStatements(text, file, undefined, errors)) {
    if (s.name !== 'vrrp_instance' || !s.block) continue;
    const get = (k: string) => s.block!.find((x) => x.name === k);
    const instance = s.args[0] ?? '(unnamed)';
    const notes: string[] = [];
    const name = instance.toLowerCase().replace(/^vi_/, 'g').replace(/[^a-z0-9_-]/g, '_').replace(/^[^a-z]/, 'g');
    const vips = (get('virtual_ipaddress')?.block ?? []).map((v) => v.name).filter(Boolean);
    const advert = Number(first(get('advert_int')) ?? '1');
    const peers = (get('unicast_peer')?.block ?? []).map((p) => p.name);
    const group = {
      name,
      vips,
      interface: first(get('interface')) ?? '',
      virtualRouterId: Number(first(get('virtual_router_id'))),
      priority: Number(first(get('priority')) ?? '100'),
      advertIntervalMs: Math.round(advert * 1000),
      // keepalived preempts unless told not to; Director's default is the other way round
      preempt: !get('nopreempt') && first(get('state')) !== 'BACKUP',
      unicastPeers: peers,
      ...(first(get('unicast_src_ip')) ? { unicastSourceIp: first(get('unicast_src_ip'))! } : {}),
    };
    if (get('track_script') || get('track_interface')) notes.push('track_script/track_interface: Director fences a director through its own health and lease instead');
    if (get('notify') || get('notify_master') || get('notify_backup')) notes.push('notify scripts are not run: the agent follows VRRP through its own notify FIFO');
    if (get('authentication')) notes.push('VRRP authentication is not used (VRRPv2 PASS is clear text); the ZooKeeper lease guards against split brain');
    if (first(get('state')) === 'MASTER' && !get('nopreempt')) notes.push('state MASTER with preempt: this director takes the VIPs back when it returns (a second failover)');
    const r = vrrpGroupSchema.safeParse(group);
    out.push({
      instance, line: s.pos.line, group,
      issues: r.success ? [] : r.error.issues.map((i) => `${i.path.join('.') || 'group'}: ${i.message}`),
      notes,
    });
  }
  return out;
}
