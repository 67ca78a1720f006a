/**
 * The signed "acting user" header the console sends to the agent, so the
 * journal names the person and not only the token's role:
 *
 *   x-director-actor: <base64url(JSON {user, role, iat})>.<base64url(HMAC-SHA256(token, first part))>
 *
 * The key is the agent token the console authenticates the request with, so
 * only a holder of that token can name a user, and a viewer-token holder
 * cannot sign for the operator token. `iat` is in seconds (as in JWT); the
 * agent refuses headers older than ACTOR_MAX_AGE_S. Web Crypto only: runs in
 * Node 20 and browsers, no node:*.
 */

export const ACTOR_HEADER = 'x-director-actor';
/** how old a signed header may be, in seconds */
export const ACTOR_MAX_AGE_S = 300;
/** clock skew tolerated for an iat in the future, in seconds */
export const ACTOR_MAX_SKEW_S = 60;
/** longer headers are refused before any decoding */
export const ACTOR_MAX_HEADER = 1024;
export const ACTOR_MAX_USER = 128;

export interface Actor {
  user: string;
  role: string;
}

const enc = new TextEncoder();

function toBase64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

async function hmacKey(token: string): Promise<CryptoKey> {
  return globalThis.crypto.subtle.importKey('raw', enc.encode(token), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/** The header value naming `actor`, signed with the agent token the request carries. */
export async function signActor(token: string, actor: Actor, now: number = Date.now()): Promise<string> {
  const payload = toBase64url(enc.encode(JSON.stringify({ user: actor.user, role: actor.role, iat: Math.floor(now / 1000) })));
  const sig = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', await hmacKey(token), enc.encode(payload)));
  return `${payload}.${toBase64url(sig)}`;
}

/**
 * The actor a header names, when its signature verifies against `token` and it is
 * recent; otherwise an error saying why (never which byte was wrong: the
 * signature is checked by Web Crypto's verify, in constant time).
 */
export async function verifyActor(token: string, header: string, now: number = Date.now()): Promise<Actor | { error: string }> {
  if (header.length > ACTOR_MAX_HEADER) return { error: `the ${ACTOR_HEADER} header is longer than ${ACTOR_MAX_HEADER} characters` };
  const parts = header.split('.');
  if (parts.length !== 2) return { error: `the ${ACTOR_HEADER} header is not <payload>.<signature>` };
  const [payload, sigText] = parts as [string, string];
  const sig = fromBase64url(sigText);
  if (!sig || sig.length !== 32) return { error: `the ${ACTOR_HEADER} signature is not a base64url HMAC-SHA256` };
  const ok = await globalThis.crypto.subtle.verify('HMAC', await hmacKey(token), sig, enc.encode(payload));
  if (!ok) return { error: `the ${ACTOR_HEADER} signature does not match the token` };
  const raw = fromBase64url(payload);
  let body: unknown;
  try {
    body = raw ? JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) : null;
  } catch {
    body = null;
  }
  if (typeof body !== 'object' || body === null) return { error: `the ${ACTOR_HEADER} payload is not a JSON object` };
  const { user, role, iat } = body as Record<string, unknown>;
  if (typeof user !== 'string' || user.length === 0 || user.length > ACTOR_MAX_USER || /[\u0000-\u001f\u007f]/.test(user)) {
    return { error: `the ${ACTOR_HEADER} user must be 1 to ${ACTOR_MAX_USER} characters without control characters` };
  }
  if (typeof role !== 'string' || !/^[a-z]{1,32}$/.test(role)) return { error: `the ${ACTOR_HEADER} role is not a role name` };
  if (typeof iat !== 'number' || !Number.isInteger(iat)) return { error: `the ${ACTOR_HEADER} iat is not a whole number of seconds` };
  const nowS = Math.floor(now / 1000);
  if (nowS - iat > ACTOR_MAX_AGE_S) return { error: `the ${ACTOR_HEADER} header is older than ${ACTOR_MAX_AGE_S} s (signed ${nowS - iat} s ago)` };
  if (iat - nowS > ACTOR_MAX_SKEW_S) return { error: `the ${ACTOR_HEADER} header is signed ${iat - nowS} s in the future` };
  return { user, role };
}
