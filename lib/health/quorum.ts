/**
 * The quorum rule of health checks: a failing real server is taken out of
 * service (quiesced or removed) only while enough others pass their checks.
 * When a check fails on every server at once (a wrong URL, a shared
 * dependency down), taking them all out drops every request; keeping the
 * last ones in keeps the service answering what it can, and the console
 * raises the alarm instead.
 */
export interface QuorumRule {
  /** servers that must stay in service (0 or absent = off) */
  minInService?: number | undefined;
  /** extra passing servers needed before kept servers go out */
  hysteresis?: number | undefined;
}

/** Whether a server that just failed must stay in service, given how many others pass. */
export function keepFailingServer(rule: QuorumRule, passingOthers: number): boolean {
  const min = rule.minInService ?? 0;
  return min > 0 && passingOthers < min;
}

/** Whether servers kept in by the quorum can now go out, given how many pass. */
export function releaseKeptServers(rule: QuorumRule, passing: number): boolean {
  return passing >= (rule.minInService ?? 0) + (rule.hysteresis ?? 0);
}
