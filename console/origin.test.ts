import { describe, expect, it } from 'vitest';
import { checkOrigin } from './origin';

describe('checkOrigin', () => {
  it('accepts the same host and port', () => {
    expect(checkOrigin('http://127.0.0.1:3000', '127.0.0.1:3000', [])).toEqual({ ok: true });
    expect(checkOrigin('https://Director.example', 'director.example', [])).toEqual({ ok: true });
  });
  it.each([
    [undefined, '127.0.0.1:3000', /missing Origin/],
    ['null', '127.0.0.1:3000', /opaque/],
    ['http://evil.example', '127.0.0.1:3000', /does not match host/],
    ['http://127.0.0.1:3001', '127.0.0.1:3000', /does not match host/],
    ['not a url', '127.0.0.1:3000', /malformed/],
    ['http://127.0.0.1:3000', undefined, /missing Host/],
    ['file://127.0.0.1:3000', '127.0.0.1:3000', /malformed|does not match|scheme/],
    ['chrome-extension://abc', 'abc', /scheme/],
  ])('refuses %s for host %s', (origin, host, reason) => {
    const v = checkOrigin(origin, host, []);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(reason);
  });
  it('uses the configured list instead of the Host header when given', () => {
    expect(checkOrigin('https://d.example', 'internal:3000', ['https://d.example'])).toEqual({ ok: true });
    expect(checkOrigin('https://internal:3000', 'internal:3000', ['https://d.example']).ok).toBe(false);
  });
});
