/**
 * Domain errors: what went wrong, in the domain's words, with no transport in
 * them. The agent's API turns each kind into a tRPC code in one table
 * (server/api/errors.ts); a domain error's message reaches the client as is.
 */

/** What kind of refusal an error is; each maps to exactly one tRPC (and HTTP) code. */
export type DomainErrorKind =
  | 'invalid' // the input breaks a rule
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict' // the current state does not allow it (exists already, changed since)
  | 'precondition' // something this needs is not set up (not configured, not connected)
  | 'too_many' // rate or queue limit
  | 'unsupported' // this agent cannot do it at all
  | 'unavailable' // cannot be done now (IPVS not loaded)
  | 'timeout'
  | 'internal'; // a failure the caller cannot fix; the message still says what

export class DomainError extends Error {
  constructor(readonly kind: DomainErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}

/** One input problem, shaped like a zod issue so the error formatter reports it per field. */
export interface InputIssue {
  path: PropertyKey[];
  message: string;
  code: string;
}

/**
 * Input that is valid on its own but invalid once merged with the current
 * object, or a file that does not parse. An Error (zod 4's ZodError is not
 * one, and tRPC would wrap it and drop its issues), carrying issues shaped
 * like zod's so the error formatter reports them per field.
 */
export class InputError extends DomainError {
  override readonly name = 'InputError';
  constructor(readonly issues: InputIssue[]) {
    super('invalid', issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; '));
  }
}

/** The request is well formed but refused as it stands (a check aimed at what it may not target). */
export class RefusedError extends DomainError {
  override readonly name: string = 'RefusedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid', message, options);
  }
}

export class NotFoundError extends DomainError {
  override readonly name: string = 'NotFoundError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('not_found', message, options);
  }
}

export class ConflictError extends DomainError {
  override readonly name: string = 'ConflictError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, options);
  }
}

export class PreconditionError extends DomainError {
  override readonly name: string = 'PreconditionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('precondition', message, options);
  }
}

export class ForbiddenError extends DomainError {
  override readonly name: string = 'ForbiddenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('forbidden', message, options);
  }
}

export class UnauthenticatedError extends DomainError {
  override readonly name: string = 'UnauthenticatedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('unauthenticated', message, options);
  }
}

export class TooManyError extends DomainError {
  override readonly name: string = 'TooManyError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('too_many', message, options);
  }
}

export class UnsupportedError extends DomainError {
  override readonly name: string = 'UnsupportedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('unsupported', message, options);
  }
}
