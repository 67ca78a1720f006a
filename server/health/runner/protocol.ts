/**
 * The check runner's wire format: one JSON object per line over a unix
 * socket, a request from the agent, an answer from the runner. Both sides
 * validate what they read: the runner trusts nothing the agent sends (a
 * compromised agent must not get more than "run a script from the folder"),
 * the agent nothing the runner answers.
 */
import { z } from 'zod';

/** Longest line either side accepts, newline excluded. */
export const MAX_LINE = 4096;
/** Longest run a request may ask for: a check's timeout, like every health timing, is at most a day. */
export const MAX_TIMEOUT_MS = 86_400_000;

export const runRequestSchema = z.strictObject({
  id: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  // the name rule itself is checked again by resolveScript, with the folder rules
  script: z.string().min(1).max(64),
  address: z.union([z.ipv4(), z.ipv6()]),
  port: z.int().min(1).max(65535),
  timeoutMs: z.int().min(1).max(MAX_TIMEOUT_MS),
});
export type RunRequest = z.infer<typeof runRequestSchema>;

const base = { id: z.int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(), durationMs: z.number().min(0) };

export const runAnswerSchema = z.union([
  /** the script ran: its exit code, or the signal that ended it (SIGKILL with timedOut when it outlived timeoutMs) */
  z.strictObject({
    ...base,
    exitCode: z.int().min(0).max(255).optional(),
    signal: z.string().max(16).optional(),
    timedOut: z.literal(true).optional(),
    stderrFirstLine: z.string().max(200),
  }),
  /** the script did not run, and why (bad request, refused script, no free slot) */
  z.strictObject({ ...base, refused: z.string().max(1000) }),
]);
export type RunAnswer = z.infer<typeof runAnswerSchema>;
