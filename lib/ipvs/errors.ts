/**
 * The closed set of failures Director reports for IPVS operations. Kernel
 * errno values are mapped here once; the errno stays available as `errno`.
 */
export type IpvsErrorCode =
  | 'unavailable' // IPVS not in this kernel / module not loaded
  | 'permission' // no CAP_NET_ADMIN
  | 'service_exists'
  | 'service_not_found'
  | 'destination_exists'
  | 'destination_not_found'
  | 'unknown_scheduler'
  | 'daemon_exists'
  | 'daemon_not_running'
  | 'invalid' // the kernel refused the request as malformed / inconsistent
  | 'out_of_range'
  | 'unsupported'
  | 'malformed_reply' // the kernel answered something we cannot decode
  | 'timeout'
  | 'internal';

export class IpvsError extends Error {
  override readonly name = 'IpvsError';
  constructor(
    readonly code: IpvsErrorCode,
    message: string,
    readonly errno?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isIpvsError(e: unknown): e is IpvsError {
  return e instanceof IpvsError;
}
