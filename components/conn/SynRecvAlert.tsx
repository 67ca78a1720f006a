import { formatPercent } from '../format';
import type { SynRecvFinding } from './synrecv';

export function SynRecvAlert({ server, forwardLabel, finding }: { server: string; forwardLabel: string; finding: SynRecvFinding }) {
  const critical = finding.severity === 'critical';
  return (
    <div role="alert" className={`rounded-md border px-4 py-3 text-sm ${critical ? 'border-danger/50 bg-danger/5' : 'border-warn/50 bg-warn/5'}`}>
      <p className={`font-semibold ${critical ? 'text-danger' : 'text-warn'}`}>
        SYN_RECV piling up on <span className="font-mono">{server}</span> ({forwardLabel}):{' '}
        <span className="num">{finding.synRecv}</span> of <span className="num">{finding.total}</span> entries ({formatPercent(finding.share)})
      </p>
      <p className="mt-1 text-ink-2">The director forwarded clients&apos; SYNs but never saw the handshake finish. Likely causes, most common first:</p>
      <ol className="mt-1 list-decimal space-y-0.5 pl-5 text-ink-2">
        {finding.causes.map((c) => <li key={c}>{c}</li>)}
      </ol>
    </div>
  );
}
