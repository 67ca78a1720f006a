/**
 * The last step of a failover rehearsal, run by the console: the drill's new
 * holder hands the VIP group back, and the director that held it before is
 * timed until it holds the lease and the VIPs again. The console does it
 * because it holds an operator token for each director; the agents hold
 * only viewer tokens for their peers, so neither can make the other let go.
 */
import { haStatusSchema, type HaStatus } from '@/lib/schemas/ha';
import { haProcedures } from './ha-client';

export type HandBack = { ok: true; ms: number; to: string } | { ok: false; error: string; to: string };

export interface HandBackCalls {
  handover: (director: string, group: string) => Promise<unknown>;
  status: (director: string) => Promise<HaStatus>;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

const browserCalls: HandBackCalls = {
  handover: (d, group) => haProcedures(d).handover.mutate({ group }),
  status: async (d) => haStatusSchema.parse(await haProcedures(d).status.query()),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => Date.now(),
};

/** Whether `s` (a director's own status) says it holds `group`'s lease and its VIPs. */
export function holdsGroup(s: HaStatus, group: string): boolean {
  const g = s.groups.find((x) => x.name === group);
  return !!g && g.leaseHolder === s.director && g.vips.length > 0 && g.vips.every((v) => g.vipsPresent.includes(v));
}

/**
 * Hands `group` back from `from` to `to`. It waits `settleMs` first (one sync-daemon flush, so that
 * connections opened on the new holder survive the way back), then times the handover until `to`
 * holds the group, for at most `timeoutMs`.
 */
export async function handBack(from: string, to: string, group: string, { settleMs = 3000, timeoutMs = 30_000 } = {}, calls: HandBackCalls = browserCalls): Promise<HandBack> {
  await calls.sleep(settleMs);
  const t0 = calls.now();
  try {
    await calls.handover(from, group);
  } catch (e) {
    return { ok: false, to, error: `${from} did not hand ${group} back: ${e instanceof Error ? e.message : String(e)}` };
  }
  for (;;) {
    const s = await calls.status(to).catch(() => null);
    if (s && holdsGroup(s, group)) return { ok: true, ms: calls.now() - t0, to };
    if (calls.now() - t0 > timeoutMs) {
      return { ok: false, to, error: `${to} did not hold ${group} again within ${Math.round(timeoutMs / 1000)} s of the handover; see the HA panel` };
    }
    await calls.sleep(250);
  }
}
