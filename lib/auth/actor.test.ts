import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTOR_MAX_AGE_S, signActor, verifyActor } from './actor';

const TOKEN = 'operator_0123456789abcdefghijklmnopqrstuvwxyzABCDEF';
const NOW = 1_800_000_000_000;

function b64u(s: string | Buffer): string {
  return Buffer.from(s).toString('base64url');
}

describe('signActor / verifyActor', () => {
  it('a header signed with the token verifies to the user and role', async () => {
    const h = await signActor(TOKEN, { user: 'alice', role: 'operator' }, NOW);
    expect(await verifyActor(TOKEN, h, NOW + 10_000)).toEqual({ user: 'alice', role: 'operator' });
  });

  it('matches the documented format: base64url(JSON).base64url(HMAC-SHA256(token, first part))', async () => {
    const h = await signActor(TOKEN, { user: 'bob', role: 'viewer' }, NOW);
    const [payload, sig] = h.split('.');
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'))).toEqual({ user: 'bob', role: 'viewer', iat: NOW / 1000 });
    expect(sig).toBe(createHmac('sha256', TOKEN).update(payload!).digest('base64url'));
  });

  it('another token (e.g. the viewer token) does not verify', async () => {
    const h = await signActor('viewer_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', { user: 'mallory', role: 'operator' }, NOW);
    expect(await verifyActor(TOKEN, h, NOW)).toEqual({ error: 'the x-director-actor signature does not match the token' });
  });

  it('a changed payload with the old signature is refused', async () => {
    const h = await signActor(TOKEN, { user: 'alice', role: 'viewer' }, NOW);
    const forged = `${b64u(JSON.stringify({ user: 'root', role: 'operator', iat: NOW / 1000 }))}.${h.split('.')[1]}`;
    expect(await verifyActor(TOKEN, forged, NOW)).toHaveProperty('error', 'the x-director-actor signature does not match the token');
  });

  it(`a header older than ${ACTOR_MAX_AGE_S} s is refused; one just inside is accepted`, async () => {
    const h = await signActor(TOKEN, { user: 'alice', role: 'operator' }, NOW);
    expect(await verifyActor(TOKEN, h, NOW + ACTOR_MAX_AGE_S * 1000)).toEqual({ user: 'alice', role: 'operator' });
    const r = await verifyActor(TOKEN, h, NOW + (ACTOR_MAX_AGE_S + 1) * 1000);
    expect(r).toHaveProperty('error');
    expect((r as { error: string }).error).toMatch(/older than 300 s/);
  });

  it('a header signed well in the future is refused', async () => {
    const h = await signActor(TOKEN, { user: 'alice', role: 'operator' }, NOW + 3_600_000);
    expect((await verifyActor(TOKEN, h, NOW)) as { error: string }).toHaveProperty('error', expect.stringMatching(/in the future/));
  });

  it('well-signed but malformed payloads are refused by field', async () => {
    const sign = (obj: unknown) => {
      const p = b64u(JSON.stringify(obj));
      return `${p}.${createHmac('sha256', TOKEN).update(p).digest('base64url')}`;
    };
    const iat = NOW / 1000;
    expect(await verifyActor(TOKEN, sign({ role: 'operator', iat }), NOW)).toHaveProperty('error', expect.stringMatching(/user/));
    expect(await verifyActor(TOKEN, sign({ user: 'a\nb', role: 'operator', iat }), NOW)).toHaveProperty('error', expect.stringMatching(/control/));
    expect(await verifyActor(TOKEN, sign({ user: 'a', role: 'Operator!', iat }), NOW)).toHaveProperty('error', expect.stringMatching(/role/));
    expect(await verifyActor(TOKEN, sign({ user: 'a', role: 'operator', iat: '1' }), NOW)).toHaveProperty('error', expect.stringMatching(/iat/));
    expect(await verifyActor(TOKEN, sign([1, 2]), NOW)).toHaveProperty('error', expect.stringMatching(/user/));
    expect(await verifyActor(TOKEN, sign('x'), NOW)).toHaveProperty('error', expect.stringMatching(/JSON object/));
  });

  it('a UTF-8 user name round-trips', async () => {
    const h = await signActor(TOKEN, { user: 'zoë 名前', role: 'viewer' }, NOW);
    expect(await verifyActor(TOKEN, h, NOW)).toEqual({ user: 'zoë 名前', role: 'viewer' });
  });

  it('property: arbitrary header text never throws and is refused', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 1500 }), async (s) => {
      const r = await verifyActor(TOKEN, s, NOW);
      expect(r).toHaveProperty('error');
    }), { seed: 23, numRuns: 300 });
  });
});
