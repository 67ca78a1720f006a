/**
 * The agent's API as production agents serve it: one router per entity
 * (server/api/routers/), merged here. The console's client type is
 * `LabAppRouter` (server/lab/app-router.ts): this plus the lab's procedures,
 * which only an agent started by the lab's launcher answers.
 * Reads and subscriptions need a viewer (or operator) token; writes need an operator token.
 */
import { router } from './trpc';
import { authRouter } from './routers/auth';
import { connectionsRouter } from './routers/connections';
import { destinationsRouter } from './routers/destinations';
import { haRouter } from './routers/ha';
import { healthRouter } from './routers/health';
import { historyRouter } from './routers/history';
import { doctorRouter } from './routers/doctor';
import { info } from './routers/info';
import { journalRouter } from './routers/journal';
import { outsideRouter } from './routers/outside';
import { servicesRouter } from './routers/services';
import { snapshotRouter } from './routers/snapshot';
import { skewRouter } from './routers/skew';
import { changesetsRouter } from './routers/changesets';
import { statsRouter } from './routers/stats';
import { syncRouter } from './routers/sync';
import { tableRouter } from './routers/table';
import { timeoutsRouter } from './routers/timeouts';

export const appRouter = router({
  info,
  services: servicesRouter,
  destinations: destinationsRouter,
  stats: statsRouter,
  /** rates over the last 15 minutes (every tick) and 24 hours (per minute) */
  history: historyRouter,
  timeouts: timeoutsRouter,
  snapshot: snapshotRouter,
  changesets: changesetsRouter,
  connections: connectionsRouter,
  sync: syncRouter,
  table: tableRouter,
  journal: journalRouter,
  outside: outsideRouter,
  auth: authRouter,
  health: healthRouter,
  /** what is wrong with this director, with the evidence and the fix */
  doctor: doctorRouter,
  /** high availability: VRRP state, ZooKeeper lease, fencing, sync daemons */
  ha: haRouter,
  /** sh/mh/dh services whose new connections stay away from the weights */
  skew: skewRouter,
  // no lab.*: only the lab's own launcher serves it (server/lab/app-router.ts)
});

export type AppRouter = typeof appRouter;
