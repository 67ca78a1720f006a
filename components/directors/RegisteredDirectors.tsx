'use client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '@/components/ui/Button';
import { ErrorNote } from '@/components/ui/ErrorNote';
import { Panel } from '@/components/ui/Panel';
import { Skeleton } from '@/components/ui/Skeleton';
import { consoleApi } from '@/components/data/console-api';

export interface RegisteredRow { directorId: string; url: string; fingerprint: string; seenBy: string[] }
export const REGISTERED_KEY = ['console', 'directors', 'registered'] as const;

/** Directors registered in ZooKeeper (their agents serve TLS and take part in HA) that this console has not enrolled. */
export function RegisteredDirectors({ onApproved }: { onApproved: () => Promise<unknown> }) {
  const qc = useQueryClient();
  const list = useQuery({
    queryKey: REGISTERED_KEY,
    queryFn: () => consoleApi<{ registered: RegisteredRow[]; problems: string[] }>('GET', '/api/directors/registered'),
    refetchInterval: 15_000,
  });
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  const approve = async (d: RegisteredRow) => {
    setBusy(d.directorId);
    setError(null);
    setAdded(null);
    try {
      const r = await consoleApi<{ director: { name: string; url: string } }>('POST', '/api/directors/approve', { directorId: d.directorId });
      setAdded(`Enrolled ${r.director.name} at ${r.director.url}.`);
      await Promise.all([onApproved(), qc.invalidateQueries({ queryKey: REGISTERED_KEY })]);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(null);
    }
  };
  const rows = list.data?.registered ?? [];
  return (
    <Panel title="Registered, waiting for approval">
      {list.error ? <ErrorNote title="Could not read the registry">{(list.error as Error).message}</ErrorNote> : null}
      {error ? <ErrorNote title="Not approved">{error}</ErrorNote> : null}
      {added ? <p role="status" className="mb-2 text-sm text-ink-2">{added}</p> : null}
      {!list.data ? <Skeleton className="h-10 w-full" /> : rows.length === 0 ? (
        <p className="text-sm text-ink-3">
          None. Where ZooKeeper is configured, an agent that listens with TLS registers itself; it shows here until it is enrolled.
        </p>
      ) : (
        <table className="w-full text-sm">
          <thead className="text-left text-xs text-ink-3">
            <tr><th className="py-1">Director</th><th>Address</th><th>Certificate (SHA-256)</th><th>Seen by</th><th /></tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.directorId} className="border-t border-line align-top">
                <td className="py-2 pr-2 font-medium">{d.directorId}</td>
                <td className="py-2 pr-2 font-mono text-xs">{d.url}</td>
                <td className="py-2 pr-2 font-mono text-[10px] break-all">{d.fingerprint}</td>
                <td className="py-2 pr-2 text-xs">{d.seenBy.join(', ')}</td>
                <td className="py-2 text-right whitespace-nowrap">
                  <Button size="sm" variant="primary" disabled={busy !== null} onClick={() => void approve(d)}>
                    {busy === d.directorId ? 'Approving…' : 'Approve'}
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data?.problems.length ? (
        <ul className="mt-2 list-disc pl-5 text-xs text-ink-3">
          {list.data.problems.map((p) => <li key={p}>{p}</li>)}
        </ul>
      ) : null}
      <p className="mt-2 text-xs text-ink-3">Approve only a director whose address and certificate you recognise: the console will trust exactly that certificate.</p>
    </Panel>
  );
}
