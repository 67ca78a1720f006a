/**
 * keepalived.conf through the API: the same plan, diff and apply as a
 * snapshot, plus the checks (virtual servers' health checkers become the
 * agent's health configuration) and a preview of the VRRP half. Includes are
 * refused: an upload is one file, and the agent reads nothing else from disk
 * on a caller's behalf.
 */
import { formatServiceKey } from '@/lib/ipvs/format';
import { serviceId } from '@/lib/ipvs/ids';
import type { ServiceRules } from '@/lib/ipvs/model';
import { formatKeepalived, KeepalivedExportError } from '@/lib/keepalived/format';
import { parseKeepalived } from '@/lib/keepalived/parse';
import { vrrpPreview, type VrrpPreview } from '@/lib/keepalived/vrrp-preview';
import { DEFAULT_CHECKS_DIR, type HealthServiceConfig } from '@/lib/schemas/health';
import { toRules } from '@/lib/snapshot/json';
import type { AgentContext } from '../api/context';
import { InputError } from '@/lib/errors';

export interface KeepalivedExtras {
  /** services whose checks the import sets, each in words */
  checks: string[];
  /** imported services that had checks and will have none */
  checksRemoved: string[];
  notes: string[];
  warnings: string[];
  vrrp: VrrpPreview[];
}

export interface ParsedKeepalived {
  services: ServiceRules[];
  health: HealthServiceConfig[];
  extras: KeepalivedExtras;
}

const at = (d: { line: number; message: string }) => `line ${d.line}: ${d.message}`;

export function parseKeepalivedUpload(ctx: Pick<AgentContext, 'health'>, text: string, checksDir = DEFAULT_CHECKS_DIR): ParsedKeepalived {
  const p = parseKeepalived(text, { file: 'keepalived.conf', checksDir });
  if (p.errors.length > 0) throw new InputError(p.errors.map((e) => ({ code: 'custom', path: ['text'], message: at(e) })));
  const imported = new Set(p.services.map((s) => serviceId(s.key)));
  const withChecks = new Set(p.health.map((h) => serviceId(h.service)));
  const stored = ctx.health?.getConfig() ?? [];
  return {
    services: p.services,
    health: p.health,
    extras: {
      checks: p.health.map((h) => {
        const n = h.realServers.filter((r) => r.checks.length > 0).length;
        return `${formatServiceKey(h.service)}: checks on ${n} real server${n === 1 ? '' : 's'}${h.sorryServer ? ', a sorry server' : ''}`;
      }),
      checksRemoved: stored.filter((h) => imported.has(serviceId(h.service)) && !withChecks.has(serviceId(h.service))).map((h) => formatServiceKey(h.service)),
      notes: p.notes.map(at),
      warnings: p.warnings.map(at),
      vrrp: vrrpPreview(text),
    },
  };
}

/** After the table: the imported services' checks replace what was stored for them (none in the file = none kept). */
export async function applyKeepalivedChecks(ctx: Pick<AgentContext, 'health'>, parsed: ParsedKeepalived): Promise<number> {
  const health = ctx.health;
  if (!health) return 0;
  const byId = new Map(parsed.health.map((h) => [serviceId(h.service), h]));
  let set = 0;
  for (const s of parsed.services) {
    const cfg = byId.get(serviceId(s.key));
    if (cfg) {
      await health.setConfig(cfg);
      set++;
    } else if (health.getConfig(s.key).length > 0) {
      await health.removeConfig(s.key);
    }
  }
  return set;
}

export async function exportKeepalived(ctx: AgentContext, header: string): Promise<string> {
  const table = toRules(await ctx.backend.dump());
  try {
    const out = formatKeepalived(table, ctx.health?.getConfig() ?? [], { header });
    return out.text + (out.skipped.length ? `\n# not exported:\n${out.skipped.map((s) => `#   ${s}`).join('\n')}\n` : '');
  } catch (e) {
    if (e instanceof KeepalivedExportError) throw new InputError([{ code: 'custom', path: ['format'], message: e.message }]);
    throw e;
  }
}
