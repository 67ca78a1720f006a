/** What the health checks say of one real server, as the service page shows it. */
export interface DestHealth {
  state: 'up' | 'down' | 'unknown' | 'maintenance' | 'unchecked';
  maintenance: boolean;
  kept?: boolean;
  message: string | null;
}

export interface OutOfService {
  label: string;
  tone: 'warn' | 'danger';
  title: string;
}

/**
 * Why a real server takes no new connections (or takes them while failing),
 * told apart by who decided: an operator's drain, maintenance, or a failing
 * health check. Null when it is in service and passing.
 */
export function outOfService(weight: number, health: DestHealth | undefined): OutOfService | null {
  if (health?.maintenance) return { label: 'maintenance', tone: 'warn', title: 'In maintenance (Health page): weight 0 until an operator ends it; checks do not undo it.' };
  if (health?.state === 'down' && health.kept) {
    return { label: 'failing, kept in', tone: 'danger', title: `Fails its checks${health.message ? ` (${health.message})` : ''}, but the minimum in service keeps it taking connections.` };
  }
  if (health?.state === 'down') {
    return { label: 'down (health)', tone: 'danger', title: `Taken out by its health check${health.message ? `: ${health.message}` : ''}. It comes back when the check passes.` };
  }
  if (weight === 0) return { label: 'drained', tone: 'warn', title: 'Weight 0, set by an operator (or with ipvsadm): no new connections, existing ones continue.' };
  return null;
}

/** Services that have no real server taking new connections (lib/agent/table-summary.ts: the agent counts them too). */
export { servicesWithoutServer } from '@/lib/agent/table-summary';
