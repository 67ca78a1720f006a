/**
 * The console's side of enrollment: redeem a code at the agent over TLS
 * pinned to the code's fingerprint, and later give the credential back.
 */
import https from 'node:https';
import { decodeCode } from '../lib/enroll/code';
import { pinnedAgent } from './pinned';

export interface Enrolled {
  url: string;
  fingerprint: string;
  directorId: string;
  credentialId: string;
  viewerToken: string;
  operatorToken: string;
}

const TOKEN_RE = /^(viewer|operator)_[A-Za-z0-9_-]{43}$/;

function post(url: string, fingerprint: string, label: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const agent = pinnedAgent({ label, url, fingerprint });
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: 'POST', agent, timeout: 15_000,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (text.length > 64 * 1024) res.destroy(new Error('answer too large'));
      });
      res.on('end', () => {
        agent.destroy();
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          /* kept null: said below */
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 15 s`)));
    req.on('error', (e) => {
      agent.destroy();
      reject(e);
    });
    req.end(data);
  });
}

/** Exchanges an enrollment code for this console's own credential on that agent. */
export async function redeemCode(code: string, consoleName: string): Promise<Enrolled> {
  const c = decodeCode(code);
  let r;
  try {
    r = await post(`${c.url}/enroll/redeem`, c.fingerprint, `agent at ${c.url}`, { secret: c.secret, console: consoleName.slice(0, 100) });
  } catch (e) {
    const m = (e as Error).message;
    throw new Error(m.includes('does not match the pinned') ? m : `cannot reach the agent at ${c.url}: ${m}`);
  }
  const j = (r.json ?? {}) as Record<string, unknown>;
  if (r.status !== 200) throw new Error(`the agent at ${c.url} refused the code: ${typeof j.error === 'string' ? j.error : `HTTP ${r.status}`}`);
  if (typeof j.viewerToken !== 'string' || !TOKEN_RE.test(j.viewerToken) || typeof j.operatorToken !== 'string' || !TOKEN_RE.test(j.operatorToken)
    || typeof j.credentialId !== 'string' || typeof j.directorId !== 'string') {
    throw new Error(`the agent at ${c.url} gave an answer the console does not understand`);
  }
  return {
    url: c.url, fingerprint: c.fingerprint,
    directorId: j.directorId.slice(0, 64), credentialId: j.credentialId.slice(0, 32),
    viewerToken: j.viewerToken, operatorToken: j.operatorToken,
  };
}

/** Gives the console's credential back to the agent (when a director is removed). */
export async function revokeCredential(a: { name: string; url: string; fingerprint: string; operatorToken: string }): Promise<void> {
  const r = await post(`${a.url}/enroll/revoke`, a.fingerprint, `agent ${a.name}`, {}, { authorization: `Bearer ${a.operatorToken}` });
  if (r.status !== 200) {
    const j = (r.json ?? {}) as Record<string, unknown>;
    throw new Error(`agent ${a.name} did not revoke the credential: ${typeof j.error === 'string' ? j.error : `HTTP ${r.status}`}`);
  }
}
