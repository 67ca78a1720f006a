/**
 * A checker answers one question about one real server, once: is it serving?
 * It owns no timing beyond its own timeout (the scheduler owns intervals,
 * retries and first runs), and it never throws: every failure is a message.
 */
export interface CheckResult {
  ok: boolean;
  /** what an operator reads: "HTTP 200", "HTTP 503", "connect timeout after 3 s", "connection refused" */
  message: string;
  durationMs: number;
  /** MISC_CHECK with misc_dynamic: the weight the script asked for */
  weight?: number;
  /**
   * The check was not run (a refused target or script, no free slot): this
   * says nothing about the server, so its state and weight stay as they are.
   */
  refused?: boolean;
}

export interface CheckTarget {
  family: 'inet' | 'inet6';
  address: string;
  port: number;
}

export function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/** Socket errors as operators name them. */
export function describeSocketError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': return 'connection reset by the server';
    case 'EHOSTUNREACH': return 'host unreachable';
    case 'ENETUNREACH': return 'network unreachable';
    case 'EPIPE': return 'connection closed by the server';
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_HEADER_TOKEN': return 'not an HTTP answer';
    default: return e.code ? `${e.code.toLowerCase()}: ${e.message}` : e.message;
  }
}
