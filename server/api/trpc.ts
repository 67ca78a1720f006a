/**
 * The one place tRPC is initialised. Routers may only use the builders
 * exported here, so no procedure can skip authentication or error conversion.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { ZodError } from 'zod';
import { isIpvsError, type IpvsError, type IpvsErrorCode } from '@/lib/ipvs/errors';
import type { AgentContext, Role } from './context';

/** IpvsError codes -> tRPC codes, in one table (HTTP status follows from the tRPC code). */
const IPVS_TO_TRPC: Record<IpvsErrorCode, TRPC_ERROR_CODE_KEY> = {
  unavailable: 'SERVICE_UNAVAILABLE',
  permission: 'FORBIDDEN',
  service_exists: 'CONFLICT',
  service_not_found: 'NOT_FOUND',
  destination_exists: 'CONFLICT',
  destination_not_found: 'NOT_FOUND',
  unknown_scheduler: 'BAD_REQUEST',
  daemon_exists: 'CONFLICT',
  daemon_not_running: 'NOT_FOUND',
  invalid: 'BAD_REQUEST',
  out_of_range: 'BAD_REQUEST',
  unsupported: 'NOT_IMPLEMENTED',
  malformed_reply: 'INTERNAL_SERVER_ERROR',
  timeout: 'TIMEOUT',
  internal: 'INTERNAL_SERVER_ERROR',
};

export function ipvsToTRPC(e: IpvsError): TRPCError {
  return new TRPCError({ code: IPVS_TO_TRPC[e.code], message: e.message, cause: e });
}

/** Errors that reach a client: domain errors keep their message; anything else is logged and hidden. */
export function toTRPCError(cause: unknown): TRPCError {
  if (cause instanceof TRPCError) {
    const inner = cause.cause;
    if (isIpvsError(inner)) return ipvsToTRPC(inner);
    if (zodIssuesOf(inner) && cause.code === 'INTERNAL_SERVER_ERROR') {
      return new TRPCError({ code: 'BAD_REQUEST', message: inner instanceof Error ? inner.message : 'invalid input', cause: inner });
    }
    return cause;
  }
  if (isIpvsError(cause)) return ipvsToTRPC(cause);
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

const t = initTRPC.context<AgentContext>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return {
      ...shape,
      data: {
        ...shape.data,
        // stack traces never leave the agent
        stack: undefined,
        zodError: zodIssuesOf(cause) ? fieldIssues(zodIssuesOf(cause)!) : null,
        ipvs: isIpvsError(cause) ? { code: cause.code, errno: cause.errno ?? null } : null,
      },
    };
  },
});

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof v === 'object' && v !== null && Symbol.asyncIterator in v;
}

/** Subscriptions fail while iterating, after the middleware returned: convert those errors too. */
async function* convertingIterable(src: AsyncIterable<unknown>): AsyncGenerator<unknown, void, unknown> {
  try {
    yield* src;
  } catch (e) {
    throw toTRPCError(e);
  }
}

const errorConversion = t.middleware(async ({ next, ctx, path, type }) => {
  const result = await next();
  if (!result.ok) {
    const converted = toTRPCError(result.error);
    if (converted.code === 'INTERNAL_SERVER_ERROR') {
      ctx.log.error({ err: result.error.cause ?? result.error, path, type }, 'unexpected error');
    }
    throw converted;
  }
  if (type === 'subscription' && isAsyncIterable(result.data)) {
    return { ...result, data: convertingIterable(result.data) };
  }
  return result;
});

function requireRole(role: Role) {
  return t.middleware(({ ctx, next }) => {
    if (!ctx.auth) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'a valid token is required' });
    if (role === 'operator' && ctx.auth.role !== 'operator') {
      throw new TRPCError({ code: 'FORBIDDEN', message: `the ${ctx.auth.role} token cannot change the table; an operator token is required` });
    }
    return next({ ctx: { ...ctx, auth: ctx.auth } });
  });
}

const base = t.procedure.use(errorConversion);

export const router = t.router;
/** for the lab's launcher: the production API plus lab.* (server/lab/app-router.ts) */
export const mergeRouters = t.mergeRouters;
/** Reads and subscriptions: any valid token. */
export const viewerProcedure = base.use(requireRole('viewer'));
/** Writes: operator token only. */
export const operatorProcedure = base.use(requireRole('operator'));
export const createCallerFactory = t.createCallerFactory;
