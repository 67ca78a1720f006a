/**
 * The one place tRPC is initialised. Routers may only use the builders
 * exported here, so no procedure can skip authentication or error conversion.
 */
import { initTRPC } from '@trpc/server';
import type { Role } from '@/lib/auth/identity';
import { ForbiddenError, UnauthenticatedError } from '@/lib/errors';
import { isIpvsError } from '@/lib/ipvs/errors';
import type { AgentContext } from './context';
import { fieldIssues, toTRPCError, zodIssuesOf } from './errors';

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
    if (!ctx.auth) throw new UnauthenticatedError('a valid token is required');
    if (role === 'operator' && ctx.auth.role !== 'operator') {
      throw new ForbiddenError(`the ${ctx.auth.role} token cannot change the table; an operator token is required`);
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
