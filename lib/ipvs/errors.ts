/**
 * The closed set of failures Director reports for IPVS operations. Kernel
 * errno values are mapped here once; the errno stays available as `errno`.
 */
import { DomainError, type DomainErrorKind } from '../errors';

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

/** What kind of domain error each code is (server/api/errors.ts turns kinds into tRPC codes). */
const KIND: Record<IpvsErrorCode, DomainErrorKind> = {
  unavailable: 'unavailable',
  permission: 'forbidden',
  service_exists: 'conflict',
  service_not_found: 'not_found',
  destination_exists: 'conflict',
  destination_not_found: 'not_found',
  unknown_scheduler: 'invalid',
  daemon_exists: 'conflict',
  daemon_not_running: 'not_found',
  invalid: 'invalid',
  out_of_range: 'invalid',
  unsupported: 'unsupported',
  malformed_reply: 'internal',
  timeout: 'timeout',
  internal: 'internal',
};

export class IpvsError extends DomainError {
  override readonly name = 'IpvsError';
  constructor(
    readonly code: IpvsErrorCode,
    message: string,
    readonly errno?: string,
    options?: { cause?: unknown },
  ) {
    super(KIND[code], message, options);
  }
}

export function isIpvsError(e: unknown): e is IpvsError {
  return e instanceof IpvsError;
}
