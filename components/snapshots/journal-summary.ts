import type { JournalEntry, JournalObject } from '@/lib/journal/types';
import { formatDestination, formatServiceKey } from '@/lib/ipvs/format';

/** One line saying what a journal entry touched, e.g. "real server 10.1.0.2:80 of TCP 10.0.0.1:80: weight 1 → 0". */
export function summarizeJournal(objects: readonly JournalObject[]): string {
  // a cleared table lists every service it removed: name a few and count the rest
  if (objects.length > 6) return `${objects.slice(0, 3).map(one).join('; ')}; and ${objects.length - 3} more`;
  return objects.map(one).join('; ') || 'no objects';
}

/**
 * What a journal row says: its objects (or, for a change too large to keep,
 * its summary), and whether it failed (with what it left changed), was
 * interrupted, or is still running.
 */
export function describeJournalEntry(e: Pick<JournalEntry, 'objects' | 'summary' | 'state' | 'error' | 'note'>): string {
  const objects = e.objects.length === 0 && e.summary ? e.summary : summarizeJournal(e.objects);
  // a change set says what was staged; a canary's rollback says why
  const what = e.note ? `${e.note} (${objects})` : objects;
  switch (e.state) {
    case 'failed':
      return `failed: ${e.error ?? 'unknown error'}; ${e.objects.length > 0 ? `left changed: ${what}` : 'nothing was changed'}`;
    case 'interrupted':
      return `interrupted (the agent stopped; the kernel may or may not have it): ${what}`;
    case 'pending':
      return `in progress: ${what}`;
    default:
      return what;
  }
}

function one(o: JournalObject): string {
  switch (o.kind) {
    case 'service': {
      const name = `service ${formatServiceKey(o.key)}`;
      if (!o.before) return `added ${name}`;
      if (!o.after) return `removed ${name}`;
      const ch: string[] = [];
      if (o.before.scheduler !== o.after.scheduler) ch.push(`scheduler ${o.before.scheduler} → ${o.after.scheduler}`);
      if (o.before.timeout !== o.after.timeout) ch.push(`timeout ${o.before.timeout} → ${o.after.timeout}`);
      if (JSON.stringify(o.before.flags) !== JSON.stringify(o.after.flags)) ch.push('flags');
      return `changed ${name}${ch.length ? `: ${ch.join(', ')}` : ''}`;
    }
    case 'destination': {
      const d = o.after ?? o.before;
      const name = `real server ${d ? formatDestination(d) : '?'} of ${formatServiceKey(o.service)}`;
      if (!o.before) return `added ${name}`;
      if (!o.after) return `removed ${name}`;
      const ch: string[] = [];
      if (o.before.weight !== o.after.weight) ch.push(`weight ${o.before.weight} → ${o.after.weight}`);
      if (o.before.forward !== o.after.forward) ch.push(`forward ${o.before.forward} → ${o.after.forward}`);
      if (o.before.upperThreshold !== o.after.upperThreshold || o.before.lowerThreshold !== o.after.lowerThreshold) ch.push('thresholds');
      return `changed ${name}${ch.length ? `: ${ch.join(', ')}` : ''}`;
    }
    case 'timeouts':
      return `timeouts tcp ${o.before.tcp}/${o.before.tcpFin}/${o.before.udp} → ${o.after.tcp}/${o.after.tcpFin}/${o.after.udp}`;
    case 'counters':
      return `zeroed counters of ${o.key ? formatServiceKey(o.key) : 'every service'} (cannot be undone)`;
    case 'daemon': {
      const d = o.after ?? o.before;
      const where = d ? ` on ${d.interface}, syncid ${d.syncId}` : '';
      return o.before ? `stopped the ${o.state} sync daemon${where}` : `started the ${o.state} sync daemon${where}`;
    }
  }
}
