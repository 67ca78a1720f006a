'use client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { useMe } from '@/components/data/session';
import { Button } from '@/components/ui/Button';
import { ConfirmDialog } from '@/components/ui/ConfirmDialog';
import { ErrorNote } from '@/components/ui/ErrorNote';
import { Field, inputClass } from '@/components/ui/Field';
import { Panel } from '@/components/ui/Panel';
import { Skeleton } from '@/components/ui/Skeleton';
import { RegisteredDirectors } from '@/components/directors/RegisteredDirectors';
import { consoleApi } from '@/components/data/console-api';

interface DirectorRow {
  id: string; name: string; url: string; fingerprint: string | null; source: 'configured' | 'enrolled'; enrolledAt: string | null;
}


/** Directors: enroll one from the code `director agent enroll` prints, rename, remove. Admins only. */
export default function DirectorsPage() {
  const me = useMe();
  const router = useRouter();
  useEffect(() => {
    if (me.data === null) router.replace('/login');
  }, [me.data, router]);
  if (me.error) return <ErrorNote title="The console server did not answer">Reload the page; if it keeps failing, check that the console is running.</ErrorNote>;
  if (!me.data) return <Skeleton className="h-40 w-full" />;
  if ((me.data.user.role as string) !== 'admin') {
    return <ErrorNote title="Directors are managed by administrators">Signed in as {me.data.user.name} ({me.data.user.role}). Ask an administrator to enroll, rename or remove directors.</ErrorNote>;
  }
  return <Directors />;
}

function Directors() {
  const qc = useQueryClient();
  const list = useQuery({ queryKey: ['console', 'directors'], queryFn: () => consoleApi<{ directors: DirectorRow[] }>('GET', '/api/directors') });
  const refresh = () => Promise.all([qc.invalidateQueries({ queryKey: ['console', 'directors'] }), qc.invalidateQueries({ queryKey: ['console', 'me'] })]);
  const [removing, setRemoving] = useState<DirectorRow | null>(null);
  const [note, setNote] = useState<string | null>(null);
  return (
    <div className="mx-auto max-w-5xl space-y-4 p-4">
      <h1 className="text-lg font-semibold">Directors</h1>
      {note ? <ErrorNote title="Removed, but the credential is still valid on the agent">{note}</ErrorNote> : null}
      <EnrollForm onDone={refresh} />
      <RegisteredDirectors onApproved={refresh} />
      <Panel title="Known directors">
        {list.error ? <ErrorNote title="Could not list directors">{(list.error as Error).message}</ErrorNote> : null}
        {!list.data ? <Skeleton className="h-20 w-full" /> : list.data.directors.length === 0 ? (
          <p className="text-sm text-ink-3">No directors yet. On a director, run <code>director agent enroll</code> and paste its code above.</p>
        ) : (
          <table className="w-full text-sm">
            <thead className="text-left text-xs text-ink-3">
              <tr><th className="py-1">Name</th><th>Address</th><th>Certificate (SHA-256)</th><th>Source</th><th /></tr>
            </thead>
            <tbody>
              {list.data.directors.map((d) => (
                <DirectorLine key={d.id} d={d} onChanged={refresh} onRemove={() => setRemoving(d)} />
              ))}
            </tbody>
          </table>
        )}
      </Panel>
      <ConfirmDialog
        open={removing !== null}
        title={`Remove director ${removing?.name ?? ''}?`}
        confirmLabel="Remove"
        onCancel={() => setRemoving(null)}
        onConfirm={async () => {
          const r = await consoleApi<{ revoked: boolean; revokeError: string | null }>('DELETE', `/api/directors/${encodeURIComponent(removing!.id)}`);
          setNote(r.revoked ? null : r.revokeError);
          setRemoving(null);
          await refresh();
        }}
      >
        The console forgets {removing?.url} and gives its credential back to that agent. The agent keeps running; enroll it again with a new code.
      </ConfirmDialog>
    </div>
  );
}

function DirectorLine({ d, onChanged, onRemove }: { d: DirectorRow; onChanged: () => Promise<unknown>; onRemove: () => void }) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fixed = d.source === 'configured' ? "Comes from the console's configuration file; change it there." : null;
  return (
    <tr className="border-t border-line align-top">
      <td className="py-2 pr-2">
        {editing ? (
          <form
            className="flex gap-1"
            onSubmit={async (e) => {
              e.preventDefault();
              const name = String(new FormData(e.currentTarget).get('name') ?? '');
              try {
                await consoleApi('PATCH', `/api/directors/${encodeURIComponent(d.id)}`, { name });
                setEditing(false);
                setError(null);
                await onChanged();
              } catch (err) {
                setError((err as Error).message);
              }
            }}
          >
            <Field id={`name-${d.id}`} label="New name" error={error ?? undefined}>
              <input id={`name-${d.id}`} name="name" defaultValue={d.name} maxLength={80} className={inputClass} autoFocus />
            </Field>
            <Button type="submit" size="sm" className="mt-5">Save</Button>
          </form>
        ) : (
          <span className="font-medium">{d.name}</span>
        )}
        <div className="text-xs text-ink-3">{d.id}</div>
      </td>
      <td className="py-2 pr-2 font-mono text-xs">{d.url}</td>
      <td className="py-2 pr-2 font-mono text-[10px] break-all">{d.fingerprint ?? '—'}</td>
      <td className="py-2 pr-2 text-xs">{d.source === 'enrolled' ? `enrolled ${d.enrolledAt?.slice(0, 16).replace('T', ' ') ?? ''}` : 'configuration file'}</td>
      <td className="py-2 text-right whitespace-nowrap">
        <Button size="sm" variant="ghost" disabledReason={fixed} onClick={() => setEditing((v) => !v)}>{editing ? 'Cancel' : 'Rename'}</Button>
        <Button size="sm" variant="danger" disabledReason={fixed} onClick={onRemove}>Remove</Button>
      </td>
    </tr>
  );
}

function EnrollForm({ onDone }: { onDone: () => Promise<unknown> }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [added, setAdded] = useState<string | null>(null);
  return (
    <Panel title="Enroll a director">
      <form
        className="space-y-3"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const f = new FormData(form);
          setBusy(true);
          setError(null);
          setAdded(null);
          try {
            const r = await consoleApi<{ director: { id: string; name: string; url: string } }>('POST', '/api/directors', { code: f.get('code'), name: f.get('name') || undefined });
            setAdded(`Enrolled ${r.director.name} at ${r.director.url}.`);
            form.reset();
            await onDone();
          } catch (err) {
            setError((err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        <Field id="code" label="Enrollment code" hint={<>On the director: <code>director agent enroll</code>. The code works once, for 10 minutes.</>} error={error ?? undefined}>
          <textarea id="code" name="code" required rows={3} className={`${inputClass} h-auto py-2 font-mono text-xs`} placeholder="director-enroll-…" aria-invalid={error ? true : undefined} />
        </Field>
        <Field id="dname" label="Name (optional)" hint="How the console shows it; the agent's director id by default.">
          <input id="dname" name="name" maxLength={80} className={inputClass} />
        </Field>
        <div className="flex items-center gap-3">
          <Button type="submit" variant="primary" disabled={busy}>{busy ? 'Enrolling…' : 'Enroll'}</Button>
          {added ? <p role="status" className="text-sm text-ink-2">{added}</p> : null}
        </div>
      </form>
    </Panel>
  );
}

