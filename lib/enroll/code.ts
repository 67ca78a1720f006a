/**
 * The enrollment code `director agent enroll` prints and a console redeems:
 * "director-enroll-" + base64url(JSON { v: 1, url, fingerprint, secret }).
 * The URL says where the agent listens (https only), the fingerprint pins its
 * certificate, the secret (32 random bytes) is good once for a short time.
 * Shared by the agent (makes codes) and the console (reads them).
 */
import { z } from 'zod';

export const CODE_PREFIX = 'director-enroll-';
export const FINGERPRINT_RE = /^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/;
export const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;

const codeSchema = z.strictObject({
  v: z.literal(1),
  url: z.string().max(300).refine((u) => {
    try {
      const p = new URL(u);
      return p.protocol === 'https:' && p.pathname === '/' && !p.search && !p.username && !p.password;
    } catch {
      return false;
    }
  }, 'the agent URL must be https://HOST:PORT'),
  fingerprint: z.string().regex(FINGERPRINT_RE, 'a SHA-256 fingerprint AA:BB:… (32 pairs)'),
  secret: z.string().regex(SECRET_RE, '32 random bytes, base64url'),
});
export type EnrollCode = z.infer<typeof codeSchema>;

function toBase64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export function encodeCode(c: Omit<EnrollCode, 'v'>): string {
  return CODE_PREFIX + toBase64url(new TextEncoder().encode(JSON.stringify({ v: 1, ...c })));
}

/** Parses a pasted code; the error says what is wrong with it and never echoes the secret. */
export function decodeCode(text: string): EnrollCode {
  const t = text.trim();
  if (!t.startsWith(CODE_PREFIX)) throw new Error(`an enrollment code starts with '${CODE_PREFIX}' (copy it whole from 'director agent enroll')`);
  const body = t.slice(CODE_PREFIX.length);
  if (body.length > 2000 || !/^[A-Za-z0-9_-]+$/.test(body)) throw new Error('the enrollment code is damaged (not base64url); copy it again');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromBase64url(body)));
  } catch {
    throw new Error('the enrollment code is damaged (no JSON inside); copy it again');
  }
  const p = codeSchema.safeParse(raw);
  if (!p.success) {
    throw new Error(`the enrollment code is damaged: ${p.error.issues.map((i) => `${i.path.join('.') || 'code'}: ${i.message}`).join('; ')}`);
  }
  return { ...p.data, url: p.data.url.replace(/\/+$/, '') };
}
