import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import {
  ConflictError, DomainError, ForbiddenError, InputError, NotFoundError, PreconditionError, RefusedError,
  TooManyError, UnauthenticatedError, UnsupportedError,
} from '@/lib/errors';
import { IpvsError } from '@/lib/ipvs/errors';
import { HaPreconditionError, HaUnavailableError } from '../ha/service';
import { CheckRateError, CheckTargetError } from '../health/service';
import { JournalWriteError } from '../table/journal';
import { RateLimited } from './auth';
import { toTRPCError } from './errors';
import { createCallerFactory, router, viewerProcedure } from './trpc';

/** What tRPC does with an error thrown inside a procedure, before the middleware converts it. */
const wrapped = (cause: unknown) => new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause });

describe('domain errors to tRPC codes (server/api/errors.ts)', () => {
  it('maps each domain error to its code and keeps its message, thrown or wrapped by tRPC', () => {
    const cases: [DomainError, string][] = [
      [new InputError([{ code: 'custom', path: ['patch', 'timeout'], message: 'too long' }]), 'BAD_REQUEST'],
      [new RefusedError('not a real server of it'), 'BAD_REQUEST'],
      [new UnauthenticatedError('a valid token is required'), 'UNAUTHORIZED'],
      [new ForbiddenError('an operator token is required'), 'FORBIDDEN'],
      [new NotFoundError('nothing to undo'), 'NOT_FOUND'],
      [new ConflictError('the table changed since'), 'CONFLICT'],
      [new PreconditionError('not configured'), 'PRECONDITION_FAILED'],
      [new TooManyError('busy'), 'TOO_MANY_REQUESTS'],
      [new UnsupportedError('not on this agent'), 'NOT_IMPLEMENTED'],
      // the subclasses the agent throws keep the codes they had before the base class
      [new HaUnavailableError('high availability is not configured'), 'PRECONDITION_FAILED'],
      [new HaPreconditionError("no VIP group 'x'"), 'CONFLICT'],
      [new CheckTargetError('refusing to check 127.0.0.1'), 'BAD_REQUEST'],
      [new CheckRateError('too many checkNow calls'), 'TOO_MANY_REQUESTS'],
      [new RateLimited(1000), 'TOO_MANY_REQUESTS'],
      [new JournalWriteError('disk full'), 'INTERNAL_SERVER_ERROR'],
      [new IpvsError('service_not_found', 'virtual service TCP 10.0.0.1:80 does not exist'), 'NOT_FOUND'],
      [new IpvsError('service_exists', 'exists'), 'CONFLICT'],
      [new IpvsError('permission', 'no CAP_NET_ADMIN'), 'FORBIDDEN'],
      [new IpvsError('unavailable', 'no IPVS'), 'SERVICE_UNAVAILABLE'],
      [new IpvsError('out_of_range', 'weight'), 'BAD_REQUEST'],
      [new IpvsError('unsupported', 'old kernel'), 'NOT_IMPLEMENTED'],
      [new IpvsError('timeout', 'no answer'), 'TIMEOUT'],
    ];
    for (const [e, code] of cases) {
      for (const thrown of [e, wrapped(e)]) {
        const t = toTRPCError(thrown);
        expect({ name: e.name, code: t.code, message: t.message }).toEqual({ name: e.name, code, message: e.message });
        expect(t.cause).toBe(e);
      }
    }
  });

  it('hides the message of an error that reaches it bare and is not a domain error', () => {
    const bare = toTRPCError(new Error('/var/lib/director/secret: EACCES'));
    expect({ code: bare.code, message: bare.message }).toEqual({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error' });
  });
});

describe('an unexpected error thrown inside a procedure (server/api/trpc.ts)', () => {
  it('reaches the client as "internal error", its message only in the agent log', async () => {
    const logged: unknown[] = [];
    const r = router({ boom: viewerProcedure.query(() => { throw new Error('/var/lib/director/state/x: EACCES'); }) });
    const ctx = { auth: { role: 'viewer', name: 't' }, remote: 'test', log: { error: (o: unknown) => { logged.push(o); } } };
    const caller = createCallerFactory(r)(ctx as never);
    const err = await caller.boom().then(() => null, (e: unknown) => e as TRPCError);
    expect({ code: err?.code, message: err?.message }).toEqual({ code: 'INTERNAL_SERVER_ERROR', message: 'internal error' });
    expect(JSON.stringify(logged.map((o) => String((o as { err: Error }).err)))).toContain('EACCES');
  });
});
