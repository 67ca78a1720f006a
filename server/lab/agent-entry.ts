/**
 * Entry of the agent bundle the lab runs (see bundle.ts): the same
 * `director agent` command, without a TypeScript loader, because starting
 * tsx inside user-mode Linux takes longer than the rest of the lab together.
 * It is the one place the lab's own procedures (lab.*) are mounted.
 */
import agent from '../cli/commands/agent';
import { processIo } from '../cli/io';
import { labAppRouter } from './app-router';
import { trafficTotals } from './guest/router';

agent(process.argv.slice(2), processIo, { router: labAppRouter, rehearsalTraffic: trafficTotals }).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`director agent: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
