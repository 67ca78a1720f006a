/**
 * What the Draft page sends the verdict about the rest of the fleet: the
 * VIPs each other director serves (services.vips), for the rule "VIP served
 * by another director". A director in one of this director's HA groups is a
 * peer: it serves the same VIPs by design (replicated table), so it is left
 * out. Directors that could not be read are named, not guessed.
 */

export interface FleetDirectorVips {
  id: string;
  name: string;
  /** null: not read (unreachable, or an agent without services.vips) */
  vips: readonly string[] | null;
  /** more VIPs than the agent lists: the rest are not checked */
  truncated?: boolean;
  /** its HA group names (null: HA off or not read) */
  haGroups: readonly string[] | null;
}

export interface FleetOthers {
  /** what changesets.get / commit take as `others` (null: no other director known) */
  others: { director: string; vips: string[] }[] | null;
  /** directors whose VIPs could not be read, by name */
  unread: string[];
  /** HA peers of this director, left out, by name */
  peers: string[];
  /** directors with more VIPs than were sent, by name */
  truncated: string[];
}

/** The verdict takes at most this many other directors, each with at most this many VIPs (server/api/routers/changesets.ts). */
export const MAX_OTHERS = 64;
export const MAX_VIPS_EACH = 4096;

export function fleetOthers(self: { id: string; haGroups: readonly string[] | null }, fleet: readonly FleetDirectorVips[]): FleetOthers {
  const mine = new Set(self.haGroups ?? []);
  const out: FleetOthers = { others: [], unread: [], peers: [], truncated: [] };
  for (const d of fleet) {
    if (d.id === self.id) continue;
    if (d.haGroups?.some((g) => mine.has(g))) { out.peers.push(d.name); continue; }
    if (!d.vips) { out.unread.push(d.name); continue; }
    if (out.others!.length >= MAX_OTHERS) { out.unread.push(d.name); continue; }
    if (d.truncated || d.vips.length > MAX_VIPS_EACH) out.truncated.push(d.name);
    out.others!.push({ director: d.name, vips: [...d.vips].slice(0, MAX_VIPS_EACH) });
  }
  if (!fleet.some((d) => d.id !== self.id)) out.others = null;
  return out;
}
