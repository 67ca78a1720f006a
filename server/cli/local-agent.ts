/**
 * The agent on this host, for CLI writes that must go through it (locked,
 * journaled, undoable) when it runs. Where it listens and where its operator
 * token is come from the same places the agent takes them: DIRECTOR_AGENT_URL
 * and DIRECTOR_TOKEN_FILE (or DIRECTOR_TOKEN) first, else its configuration file
 * (DIRECTOR_AGENT_CONFIG or /etc/director/agent.toml: listen or socket, stateDir,
 * tlsCert) and its defaults (127.0.0.1:9580, $DIRECTOR_STATE_DIR or
 * /var/lib/director, token in <state>/tokens/operator.token).
 *
 * Calls are plain tRPC-over-HTTP mutations (the agent has no transformer). With
 * TLS the agent's certificate is pinned to the file its configuration names,
 * checked before a byte of the request (its token) is written.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { loadAgentConfig, DEFAULT_AGENT_CONFIG } from './agent-config';

export interface AgentTarget {
  /** for messages: http://127.0.0.1:9580, unix:/run/director/agent.sock */
  label: string;
  socket?: string;
  host?: string;
  port?: number;
  /** SHA-256 of the agent certificate's DER, when it listens with TLS */
  pin?: string;
  tokenFile?: string;
  token?: string;
}

export class AgentCallError extends Error {
  override readonly name = 'AgentCallError';
  constructor(message: string, readonly code: string) { super(message); }
}

const DEFAULT_PORT = 9580;

function hostOf(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  if (!m) throw new Error(`cannot read the agent's listen address '${listen}'`);
  let host = (m[1] ?? m[2])!;
  // an agent listening on every address is reached on loopback
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return { host, port: Number(m[3]) };
}

function pinOf(certFile: string): string {
  const pem = readFileSync(certFile, 'utf8');
  return new X509Certificate(pem).fingerprint256;
}

/** Where this host's agent would be; null only when nothing says there is one (no config, no env). */
export function findLocalAgent(env: Record<string, string | undefined> = process.env): AgentTarget {
  if (env.DIRECTOR_AGENT_URL) {
    const u = new URL(env.DIRECTOR_AGENT_URL);
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return {
      label: u.origin, host, port,
      ...(env.DIRECTOR_TOKEN ? { token: env.DIRECTOR_TOKEN } : {}),
      ...(env.DIRECTOR_TOKEN_FILE ? { tokenFile: env.DIRECTOR_TOKEN_FILE } : {}),
      ...(u.protocol === 'https:' && env.DIRECTOR_AGENT_CERT ? { pin: pinOf(env.DIRECTOR_AGENT_CERT) } : {}),
    };
  }
  const cfgFile = env.DIRECTOR_AGENT_CONFIG ?? (existsSync(DEFAULT_AGENT_CONFIG) ? DEFAULT_AGENT_CONFIG : null);
  const cfg = cfgFile ? loadAgentConfig(cfgFile) : {};
  const stateDir = cfg.stateDir ?? env.DIRECTOR_STATE_DIR ?? '/var/lib/director';
  const tokenFile = env.DIRECTOR_TOKEN_FILE ?? path.join(stateDir, 'tokens', 'operator.token');
  const token = env.DIRECTOR_TOKEN;
  if (cfg.socket) return { label: `unix:${cfg.socket}`, socket: cfg.socket, tokenFile, ...(token ? { token } : {}) };
  const { host, port } = hostOf(cfg.listen ?? `127.0.0.1:${DEFAULT_PORT}`);
  const scheme = cfg.tlsCert ? 'https' : 'http';
  return {
    label: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`, host, port, tokenFile,
    ...(token ? { token } : {}),
    ...(cfg.tlsCert ? { pin: pinOf(cfg.tlsCert) } : {}),
  };
}

/** Whether something accepts connections there (an agent that is not running refuses them or has no socket file). */
export function agentListening(t: AgentTarget, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = t.socket ? net.connect(t.socket) : net.connect({ host: t.host!, port: t.port! });
    const done = (v: boolean) => { sock.destroy(); resolve(v); };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function tokenOf(t: AgentTarget): string {
  if (t.token) return t.token;
  try {
    return readFileSync(t.tokenFile!, 'utf8').trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AgentCallError(
      `the agent at ${t.label} runs, but its operator token ${t.tokenFile} cannot be read (${code === 'EACCES' ? 'permission denied: run as root' : code ?? (e as Error).message}); ` +
      'the change was not made (going around a running agent would skip its lock and journal)', 'NO_TOKEN');
  }
}

/** A TLS socket whose certificate matched the pin, or an error: the request is only written after the check. */
function pinnedSocket(t: AgentTarget): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: t.host!, port: t.port!, rejectUnauthorized: false, ...(net.isIP(t.host!) ? {} : { servername: t.host! }) });
    sock.once('error', reject);
    sock.once('secureConnect', () => {
      const got = sock.getPeerCertificate().fingerprint256;
      if (got !== t.pin) {
        sock.destroy();
        reject(new AgentCallError(`the agent at ${t.label} presented certificate ${got}, not the configured ${t.pin}; refusing to send the token`, 'PIN_MISMATCH'));
      } else {
        sock.off('error', reject);
        resolve(sock);
      }
    });
  });
}

/** One tRPC mutation; resolves with its data or rejects with the agent's message. */
export function agentMutation<T = unknown>(t: AgentTarget, procedure: string, input: unknown): Promise<T> {
  return agentCall<T>(t, 'POST', procedure, input);
}

/** One tRPC query (GET, its input in the URL); resolves with its data or rejects with the agent's message. */
export function agentQuery<T = unknown>(t: AgentTarget, procedure: string, input: unknown): Promise<T> {
  return agentCall<T>(t, 'GET', procedure, input);
}

async function agentCall<T>(t: AgentTarget, method: 'GET' | 'POST', procedure: string, input: unknown): Promise<T> {
  const token = tokenOf(t);
  const body = method === 'POST' ? JSON.stringify(input ?? {}) : '';
  const headers = method === 'POST'
    ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` }
    : { authorization: `Bearer ${token}` };
  const sock = t.pin ? await pinnedSocket(t) : null;
  const text = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const opts: http.RequestOptions = {
      method, path: method === 'POST' ? `/trpc/${procedure}` : `/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input ?? {}))}`, headers,
      ...(t.socket ? { socketPath: t.socket } : { host: t.host!, port: t.port! }),
      ...(sock ? { createConnection: () => sock } : {}),
    };
    // over the already checked TLS socket, plain HTTP framing: https.request would connect (and verify) again
    const req = http.request(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(120_000, () => req.destroy(new Error('the agent did not answer in 120 s')));
    req.on('error', reject);
    req.end(body);
  });
  let parsed: { result?: { data?: T }; error?: { message?: string; data?: { code?: string; zodError?: { issues?: { path: string; message: string }[] } | null } } };
  try {
    parsed = JSON.parse(text.text) as typeof parsed;
  } catch {
    throw new AgentCallError(`the agent at ${t.label} answered HTTP ${text.status} without a tRPC reply`, 'BAD_REPLY');
  }
  if (parsed.error) {
    // input refused by the procedure's schema: its message is the issues as JSON; say them as "field: why"
    const issues = parsed.error.data?.zodError?.issues;
    const message = issues?.length ? issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ') : parsed.error.message;
    throw new AgentCallError(message ?? `HTTP ${text.status}`, parsed.error.data?.code ?? 'ERROR');
  }
  return parsed.result?.data as T;
}
