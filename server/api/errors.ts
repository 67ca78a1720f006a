/**
 * Errors as a client of the API sees them. Domain errors (lib/errors.ts, and
 * IpvsError) become tRPC errors through one table, keeping their message;
 * zod's input errors become BAD_REQUEST; anything else is logged by the
 * middleware (server/api/trpc.ts) and hidden behind "internal error".
 */
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { ZodError } from 'zod';
import { isDomainError, type DomainError, type DomainErrorKind } from '@/lib/errors';

/** Domain error kinds -> tRPC codes, in one table (the HTTP status follows from the tRPC code). */
export const KIND_TO_TRPC: Record<DomainErrorKind, TRPC_ERROR_CODE_KEY> = {
  invalid: 'BAD_REQUEST',
  unauthenticated: 'UNAUTHORIZED',
  forbidden: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  conflict: 'CONFLICT',
  precondition: 'PRECONDITION_FAILED',
  too_many: 'TOO_MANY_REQUESTS',
  unsupported: 'NOT_IMPLEMENTED',
  unavailable: 'SERVICE_UNAVAILABLE',
  timeout: 'TIMEOUT',
  internal: 'INTERNAL_SERVER_ERROR',
};

export function domainToTRPC(e: DomainError): TRPCError {
  return new TRPCError({ code: KIND_TO_TRPC[e.kind], message: e.message, cause: e });
}

/** Errors that reach a client: domain errors keep their message; anything else is logged and hidden. */
export function toTRPCError(cause: unknown): TRPCError {
  if (cause instanceof TRPCError) {
    const inner = cause.cause;
    if (isDomainError(inner)) return domainToTRPC(inner);
    if (zodIssuesOf(inner) && cause.code === 'INTERNAL_SERVER_ERROR') {
      return new TRPCError({ code: 'BAD_REQUEST', message: inner instanceof Error ? inner.message : 'invalid input', cause: inner });
    }
    // tRPC wraps whatever a procedure throws as INTERNAL_SERVER_ERROR with the thrown message: hide it
    if (cause.code === 'INTERNAL_SERVER_ERROR') return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error', cause: inner ?? cause });
    return cause;
  }
  if (isDomainError(cause)) return domainToTRPC(cause);
  if (zodIssuesOf(cause)) return new TRPCError({ code: 'BAD_REQUEST', message: 'invalid input', cause });
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error', cause });
}

interface IssueLike {
  path: PropertyKey[];
  message: string;
}

/**
 * Zod issues carried by an error, or null. Zod 4's ZodError is not an Error
 * subclass, so tRPC wraps it in an UnknownCauseError that copies its fields:
 * recognise both by shape rather than by class.
 */
export function zodIssuesOf(e: unknown): IssueLike[] | null {
  if (e instanceof ZodError) return e.issues;
  if (typeof e !== 'object' || e === null) return null;
  const issues = (e as { issues?: unknown }).issues;
  if (!Array.isArray(issues) || issues.length === 0) return null;
  const ok = issues.every((i: unknown) => typeof i === 'object' && i !== null
    && Array.isArray((i as IssueLike).path) && typeof (i as IssueLike).message === 'string');
  return ok ? (issues as IssueLike[]) : null;
}

export interface FieldIssue {
  /** dotted path of the field, e.g. "service.key.port" ("" for the whole input) */
  path: string;
  message: string;
}

/** Zod issues keyed by field path, so a form can show each next to its field. */
export function fieldIssues(list: IssueLike[]): { fieldErrors: Record<string, string[]>; issues: FieldIssue[] } {
  const issues = list.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const fieldErrors: Record<string, string[]> = {};
  for (const i of issues) (fieldErrors[i.path] ??= []).push(i.message);
  return { fieldErrors, issues };
}
