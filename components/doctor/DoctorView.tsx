'use client';
import { useState } from 'react';
import type { DoctorReport } from '@/lib/doctor/report';
import type { Finding, Severity } from '@/lib/doctor/rules';
import { Badge } from '../ui/Badge';
import { Button } from '../ui/Button';
import { Panel } from '../ui/Panel';
import { cx } from '../ui/cx';

const TONE: Record<Severity, 'danger' | 'warn' | 'accent'> = { critical: 'danger', warning: 'warn', info: 'accent' };
const BORDER: Record<Severity, string> = { critical: 'border-l-danger', warning: 'border-l-warn', info: 'border-l-accent' };

/** One fix line, with a button that copies exactly it (comments after # included: they say where to run it). */
function FixLine({ line }: { line: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(line);
      setCopied('yes');
    } catch {
      // no clipboard (plain HTTP on a LAN address): the line is selectable text
      setCopied('no');
    }
    setTimeout(() => setCopied(null), 1500);
  };
  return (
    <li className="flex items-start gap-2">
      <code className="min-w-0 flex-1 select-all overflow-x-auto whitespace-pre rounded bg-panel-2 px-2 py-1 font-mono text-xs text-ink">{line}</code>
      <Button size="sm" onClick={() => void copy()} aria-label={`Copy: ${line}`}>{copied === 'yes' ? 'Copied' : copied === 'no' ? 'Select it' : 'Copy'}</Button>
    </li>
  );
}

export function FindingCard({ f }: { f: Finding }) {
  return (
    <article aria-label={f.title} className={cx('rounded-lg border border-line border-l-4 bg-panel p-4', BORDER[f.severity])}>
      <header className="flex flex-wrap items-center gap-2">
        <Badge tone={TONE[f.severity]}>{f.severity}</Badge>
        <h2 className="text-sm font-semibold text-ink">{f.title}</h2>
        <span className="ml-auto font-mono text-[11px] text-ink-3">{f.check}</span>
      </header>
      <div className="mt-3 grid gap-3 lg:grid-cols-2">
        <section>
          <h3 className="text-[11px] font-medium uppercase tracking-wide text-ink-3">Evidence</h3>
          <ul className="mt-1 space-y-0.5 font-mono text-xs text-ink-2">{f.evidence.map((e) => <li key={e}>{e}</li>)}</ul>
        </section>
        <section>
          <h3 className="text-[11px] font-medium uppercase tracking-wide text-ink-3">Why it matters</h3>
          <p className="mt-1 text-sm text-ink-2">{f.why}</p>
        </section>
      </div>
      <section className="mt-3">
        <h3 className="text-[11px] font-medium uppercase tracking-wide text-ink-3">Fix</h3>
        <ul className="mt-1 space-y-1">{f.fix.map((x) => <FixLine key={x} line={x} />)}</ul>
      </section>
    </article>
  );
}

/** The doctor's report for one director: findings most severe first, what was looked at, and the ARP probe. */
export function DoctorView({ report, onProbe, probing, probeDisabledReason, probeError }: {
  report: DoctorReport;
  onProbe: () => void;
  probing: boolean;
  probeDisabledReason: string | null;
  probeError: string | null;
}) {
  const n = (s: Severity) => report.findings.filter((f) => f.severity === s).length;
  const l = report.looked;
  return (
    <div className="space-y-4">
      <Panel
        title="What was checked"
        actions={<Button onClick={onProbe} disabled={probing} disabledReason={probeDisabledReason}>{probing ? 'Probing ARP…' : 'Probe ARP'}</Button>}
      >
        <p className="text-sm text-ink-2">
          Kernel {report.kernel}: {l.services} service{l.services === 1 ? '' : 's'} with {l.realServers} real server{l.realServers === 1 ? '' : 's'},{' '}
          {l.connections === null ? 'connection table not readable' : `${l.connections} connection${l.connections === 1 ? '' : 's'}`}, {l.interfaces} interfaces.{' '}
          {report.arpAt === null
            ? 'No ARP probe yet: Probe ARP asks who answers for each DR service\u2019s VIP on its LAN (two requests per LAN).'
            : `ARP probed at ${new Date(report.arpAt).toLocaleTimeString()} on ${l.arpProbes ?? 0} LAN${l.arpProbes === 1 ? '' : 's'}.`}
        </p>
        <p className="mt-2 flex flex-wrap gap-2" aria-label="Findings by severity">
          <Badge tone={n('critical') ? 'danger' : 'neutral'}>{n('critical')} critical</Badge>
          <Badge tone={n('warning') ? 'warn' : 'neutral'}>{n('warning')} warning</Badge>
          <Badge tone={n('info') ? 'accent' : 'neutral'}>{n('info')} info</Badge>
        </p>
        {probeError ? <p role="alert" className="mt-2 text-sm text-danger">{probeError}</p> : null}
      </Panel>
      {report.findings.length === 0
        ? <Panel><p className="text-sm text-ok">No findings: nothing the doctor checks is wrong on this director.</p></Panel>
        : report.findings.map((f, i) => <FindingCard key={`${f.check}|${f.subject ?? ''}|${i}`} f={f} />)}
      {report.more > 0 ? <p className="text-sm text-ink-3">{report.more} more findings are not shown; fix these first, or run <code>director doctor</code> on the director.</p> : null}
    </div>
  );
}
