/**
 * Limits the agent enforces that its clients must respect too (server/api/limits.ts
 * holds the rest): a batch link sending more calls at once would be refused.
 */
export const AGENT_BATCH_CALLS = 16;
