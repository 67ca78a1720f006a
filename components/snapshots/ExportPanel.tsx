'use client';
import { useState } from 'react';
import { Button } from '../ui/Button';
import { ErrorNote } from '../ui/ErrorNote';
import { Skeleton } from '../ui/Skeleton';

export type SnapshotFormat = 'ipvsadm' | 'json' | 'keepalived';

const FORMAT_LABEL: Record<SnapshotFormat, string> = { ipvsadm: 'ipvsadm -S text', json: 'JSON', keepalived: 'keepalived.conf' };
const FILE_NAME = (base: string, f: SnapshotFormat) => (f === 'keepalived' ? `${base}.keepalived.conf` : `${base}.${f === 'json' ? 'json' : 'ipvsadm'}`);

/** Shows the current table as `ipvsadm -Sn` text, JSON or keepalived.conf (with the checks) and downloads it. */
export function ExportPanel({ format, onFormat, thresholds = true, onThresholds, text, loading, error, filenameBase }: {
  format: SnapshotFormat;
  onFormat: (f: SnapshotFormat) => void;
  thresholds?: boolean;
  onThresholds?: ((on: boolean) => void) | undefined;
  text: string | undefined;
  loading: boolean;
  error: string | null;
  filenameBase: string;
}) {
  const [copied, setCopied] = useState(false);
  const download = () => {
    if (text === undefined) return;
    const blob = new Blob([text], { type: format === 'json' ? 'application/json' : 'text/plain' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = FILE_NAME(filenameBase, format);
    a.click();
    URL.revokeObjectURL(a.href);
  };
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-center gap-2">
        <div role="radiogroup" aria-label="Format" className="inline-flex rounded-md border border-line p-0.5">
          {(['ipvsadm', 'json', 'keepalived'] as const).map((f) => (
            <button key={f} type="button" role="radio" aria-checked={format === f} onClick={() => onFormat(f)}
              className={`rounded px-3 py-1 text-sm ${format === f ? 'bg-panel-2 font-medium text-ink' : 'text-ink-2'}`}>
              {FORMAT_LABEL[f]}
            </button>
          ))}
        </div>
        {format === 'ipvsadm' && onThresholds ? (
          <label className="flex items-center gap-1.5 text-sm text-ink-2" title="ipvsadm -Sn leaves real servers' thresholds out; ipvsadm -R and Director read them back">
            <input type="checkbox" checked={thresholds} onChange={(e) => onThresholds(e.target.checked)} /> Keep thresholds (-x/-y)
          </label>
        ) : null}
        <Button variant="primary" onClick={download} disabled={text === undefined}>Download</Button>
        <Button onClick={async () => { if (text !== undefined) { await navigator.clipboard.writeText(text); setCopied(true); setTimeout(() => setCopied(false), 1500); } }} disabled={text === undefined}>
          {copied ? 'Copied' : 'Copy'}
        </Button>
      </div>
      {format === 'ipvsadm' ? (
        <p className="text-xs text-ink-3">{thresholds ? 'ipvsadm -Sn plus -x/-y on real servers with thresholds, which ipvsadm -S leaves out (ipvsadm -R reads them).' : 'Exactly what ipvsadm -Sn prints: real servers\' thresholds are left out.'}</p>
      ) : format === 'keepalived' ? (
        <p className="text-xs text-ink-3">The virtual servers with their health checks, for keepalived (run it with -P: only the checkers and the table; VRRP is configured on the HA page).</p>
      ) : null}
      {error ? <ErrorNote title="Could not export the table">{error}</ErrorNote> : loading ? <Skeleton className="h-64 w-full" /> : (
        <pre className="max-h-[420px] overflow-auto rounded-md border border-line bg-surface p-3 font-mono text-xs leading-5 text-ink" aria-label="Snapshot text">{text || '# the table is empty'}</pre>
      )}
    </div>
  );
}
