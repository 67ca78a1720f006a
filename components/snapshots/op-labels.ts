/**
 * Words for the journal's operation names (the agent records the procedure
 * that made a change, e.g. `destinations.update`). An operation this table
 * does not know is shown as recorded, so a newer agent never shows a blank.
 */
const OP_LABELS: Record<string, string> = {
  'services.create': 'Added a service',
  'services.update': 'Edited a service',
  'services.remove': 'Removed a service',
  'destinations.create': 'Added a real server',
  'destinations.update': 'Edited a real server',
  'destinations.remove': 'Removed a real server',
  'destinations.drain': 'Drained a real server',
  'destinations.restore': 'Restored a drained real server',
  'destinations.slowStart': 'Slow start: weight step',
  'stats.zero': 'Zeroed counters',
  'timeouts.set': 'Set timeouts',
  'table.clear': 'Cleared the table',
  'sync.start': 'Started the sync daemon',
  'sync.stop': 'Stopped the sync daemon',
  'snapshot.restore': 'Restored a snapshot',
  'journal.undo': 'Undid a change',
  'outside.adopt': 'Adopted a change made outside Director',
  'outside.revert': 'Reverted a change made outside Director',
  'changeset.apply': 'Applied a change set',
  'changeset.canary-rollback': 'Canary rolled back a change set',
  'ha.replicate': 'Replicated from the master',
  'health.down': 'Health check: server down',
  'health.up': 'Health check: server back',
  'health.ramp': 'Health check: weight step',
  'health.sorry.add': 'Health check: sorry server in',
  'health.sorry.remove': 'Health check: sorry server out',
  'health.maintenance.on': 'Maintenance on',
  'health.maintenance.off': 'Maintenance off',
};

export function opLabel(op: string): string {
  return OP_LABELS[op] ?? op;
}
