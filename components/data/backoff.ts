/**
 * Reconnect delay for the live WebSocket: exponential from 500 ms, capped at
 * 30 s, with ±20 % jitter so a console restart does not bring every browser
 * back in the same millisecond. `random` is injectable for tests.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, attempt));
  const jitter = 1 + (random() * 0.4 - 0.2);
  return Math.round(base * jitter);
}
