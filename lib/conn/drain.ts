/**
 * What still ties clients to a drained real server, from the connection
 * table: its connections and the persistence templates pointing at it, each
 * with the longest time left. A drain is over when both are gone: a template
 * sends its client back to the server even at weight 0 until it expires.
 */
import type { ConnEntry } from './parse';

/** How long the kernel keeps a template that still controls connections before looking again. */
export const TEMPLATE_RECHECK_S = 60;

export interface DrainRemains {
  connections: number;
  /** UDP entries among them: no FIN ends them, only their timeout */
  udp: number;
  templates: number;
  /** seconds until the last connection entry expires (null: none) */
  connectionsLeft: number | null;
  /** seconds until the last template expires (null: none) */
  templatesLeft: number | null;
  /** when the server will have nothing left, at the latest, if nothing new arrives (null: nothing left now) */
  emptyIn: number | null;
  /** the table held more entries for this server than were read: counts are the kernel's, times a lower bound */
  partial: boolean;
}

/**
 * `entries`: the connection table's entries for the server's address;
 * `port`: the real server's port (templates of all-ports and fwmark
 * services carry port 0).
 */
export function drainRemains(entries: readonly ConnEntry[], port: number, total = entries.length, ageSeconds = 0): DrainRemains {
  let connections = 0, udp = 0, templates = 0;
  let connectionsLeft: number | null = null, templatesLeft: number | null = null;
  for (const e of entries) {
    if (e.template) {
      if (e.destPort !== port && e.destPort !== 0) continue;
      templates++;
      templatesLeft = Math.max(templatesLeft ?? 0, Math.max(0, e.expires - ageSeconds));
    } else {
      if (e.destPort !== port) continue;
      connections++;
      if (e.protocol === 'udp') udp++;
      connectionsLeft = Math.max(connectionsLeft ?? 0, Math.max(0, e.expires - ageSeconds));
    }
  }
  // A template whose timer runs out while connections it placed still exist is kept
  // another 60 s (ip_vs_conn_expire), until none is left: it outlives them.
  let templateEnd = templatesLeft;
  if (templatesLeft !== null && connectionsLeft !== null && connectionsLeft > templatesLeft) {
    templateEnd = templatesLeft + TEMPLATE_RECHECK_S * Math.ceil((connectionsLeft - templatesLeft) / TEMPLATE_RECHECK_S);
  }
  const emptyIn = connectionsLeft === null && templateEnd === null ? null : Math.max(connectionsLeft ?? 0, templateEnd ?? 0);
  return { connections, udp, templates, connectionsLeft, templatesLeft, emptyIn, partial: total > entries.length };
}
