/**
 * Browser-origin checks for state-changing requests and WebSocket upgrades.
 * SameSite=Strict already keeps the cookie off cross-site requests; this is
 * the second lock, and the only one for WebSockets (browsers send cookies on
 * cross-site WebSocket handshakes under some settings, and always send Origin).
 */
export type OriginVerdict = { ok: true } | { ok: false; reason: string };

export function checkOrigin(origin: string | undefined, host: string | undefined, allowed: readonly string[]): OriginVerdict {
  if (!origin) return { ok: false, reason: 'missing Origin header' };
  if (origin === 'null') return { ok: false, reason: 'opaque origin' };
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return { ok: false, reason: `malformed Origin '${origin}'` };
  }
  if (allowed.length > 0) {
    return allowed.includes(o.origin) ? { ok: true } : { ok: false, reason: `origin ${o.origin} is not in DIRECTOR_CONSOLE_ORIGINS` };
  }
  if (!host) return { ok: false, reason: 'missing Host header' };
  // Same-origin by host:port; the scheme is whatever the browser used to reach us.
  if (o.host.toLowerCase() !== host.toLowerCase()) return { ok: false, reason: `origin ${o.origin} does not match host ${host}` };
  if (o.protocol !== 'http:' && o.protocol !== 'https:') return { ok: false, reason: `origin scheme ${o.protocol} not allowed` };
  return { ok: true };
}
