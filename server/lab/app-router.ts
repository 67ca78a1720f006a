/**
 * The API of an agent the lab starts: the production API plus `lab.*` (the
 * lab's traffic, faults and ipvsadm). Only the lab's agent bundle
 * (agent-entry.ts) serves it; `director agent` serves `appRouter` alone, so a
 * production agent has no lab procedure whatever its environment says.
 */
import { appRouter } from '../api/router';
import { mergeRouters, router } from '../api/trpc';
import { labRouter } from './guest/router';

export const labAppRouter = mergeRouters(appRouter, router({ lab: labRouter }));

/** The client type of the console (and the lab's tools): production agents answer lab.* with NOT_FOUND. */
export type LabAppRouter = typeof labAppRouter;
