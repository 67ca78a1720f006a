/**
 * TLS to an agent whose certificate is pinned by fingerprint (SHA-256 of the
 * leaf's DER). The agent's certificate comes from the console's own small CA
 * or from the operator; either way the console trusts exactly the certificate
 * it was given at enrollment, not any CA's say-so.
 *
 * The check runs in the Agent's createConnection before the socket is handed
 * to a request, so not one byte of a request (its bearer token above all) is
 * written to a server that fails it. Node's checkServerIdentity cannot do this
 * job: with rejectUnauthorized off it is not even called for an unknown CA.
 */
import type http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { isIP } from 'node:net';

export class PinMismatch extends Error {
  override readonly name = 'PinMismatch';
  readonly code = 'DIRECTOR_PIN_MISMATCH';
}

export function pinMessage(label: string, url: string, got: string, pinned: string): string {
  return `${label} at ${url}: certificate fingerprint ${got} does not match the pinned ${pinned}; refusing to talk to it ` +
    '(re-enroll the director if its certificate was replaced on purpose)';
}

export interface PinnedTarget {
  /** for messages, e.g. "agent lvs1" */
  label: string;
  url: string;
  /** AA:BB:… (upper-case hex pairs) */
  fingerprint: string;
}

class PinnedAgent extends https.Agent {
  constructor(private readonly target: PinnedTarget, opts: https.AgentOptions) {
    super(opts);
  }

  override createConnection(options: http.RequestOptions, cb?: (err: Error | null, s: Duplex) => void): Duplex | undefined {
    const host = options.host ?? 'localhost';
    const sock = tls.connect({
      ...(options as tls.ConnectionOptions),
      // no resumption: a resumed session skips the certificate, and the pin must be checked on every connection
      session: undefined,
      ...(isIP(host) ? { servername: '' } : { servername: host }),
      rejectUnauthorized: false,
    });
    let done = false;
    const finish = (err: Error | null) => {
      if (done) return;
      done = true;
      sock.off('error', onError);
      if (err) {
        sock.destroy();
        cb?.(err, sock);
      } else {
        cb?.(null, sock);
      }
    };
    const onError = (err: Error) => finish(err);
    sock.once('error', onError);
    sock.once('secureConnect', () => {
      const got = sock.getPeerCertificate().fingerprint256 ?? '(none)';
      if (got !== this.target.fingerprint) finish(new PinMismatch(pinMessage(this.target.label, this.target.url, got, this.target.fingerprint)));
      else finish(null);
    });
    // the socket goes to the request only through cb, after the check
    return undefined;
  }
}

/** One keep-alive https.Agent per pinned target; use it for http(s).request and for ws (its `agent` option). */
export function pinnedAgent(target: PinnedTarget): https.Agent {
  return new PinnedAgent(target, { keepAlive: true, maxCachedSessions: 0 });
}
