import { Badge } from '@/components/ui/Badge';

export type HealthDisplayState = 'up' | 'down' | 'unknown' | 'maintenance' | 'unchecked';

const TONE = { up: 'ok', down: 'danger', unknown: 'neutral', maintenance: 'warn', unchecked: 'neutral' } as const;
const TEXT: Record<HealthDisplayState, string> = {
  up: 'up', down: 'down', unknown: 'checking', maintenance: 'maintenance', unchecked: 'not checked',
};

/** One real server's health as a badge; the last check's message is the tooltip. */
export function HealthBadge({ state, message }: { state: HealthDisplayState; message?: string | null }) {
  return <Badge tone={TONE[state]} title={message ?? undefined}>{TEXT[state]}</Badge>;
}
