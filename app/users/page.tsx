'use client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useState, type FormEvent } from 'react';
import { consoleApi } from '@/components/data/console-api';
import { useMe, type Role } from '@/components/data/session';
import { Button } from '@/components/ui/Button';
import { ConfirmDialog } from '@/components/ui/ConfirmDialog';
import { Dialog } from '@/components/ui/Dialog';
import { ErrorNote } from '@/components/ui/ErrorNote';
import { Field, inputClass } from '@/components/ui/Field';
import { Skeleton } from '@/components/ui/Skeleton';

interface UsersAnswer { users: Array<{ name: string; role: Role }>; editable: boolean; self: string }
const ROLES: Role[] = ['viewer', 'operator', 'admin'];
const ROLE_HINT: Record<Role, string> = { viewer: 'watches', operator: 'changes rules', admin: 'changes rules and manages users' };

const call = (method: string, path: string, body?: unknown) => consoleApi<UsersAnswer>(method, path, body);

/** Console users (admins only): who may sign in, with which role. Passwords are stored as scrypt hashes. */
export default function UsersPage() {
  const me = useMe();
  const router = useRouter();
  useEffect(() => {
    if (me.data === null) router.replace('/login');
  }, [me.data, router]);
  const qc = useQueryClient();
  const users = useQuery({ queryKey: ['console', 'users'], queryFn: () => call('GET', '/api/users'), enabled: me.data?.user.role === 'admin' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const [passwordFor, setPasswordFor] = useState<string | null>(null);
  const [pwError, setPwError] = useState<string | null>(null);

  if (me.error) return <ErrorNote title="The console server did not answer">Reload the page.</ErrorNote>;
  if (!me.data) return <Skeleton className="h-40 w-full" />;
  if (me.data.user.role !== 'admin') return <ErrorNote title="Admins only">Signed in as {me.data.user.name} ({me.data.user.role}): managing users needs the admin role.</ErrorNote>;
  if (users.error) return <ErrorNote title="Could not list users">{(users.error as Error).message}</ErrorNote>;
  if (!users.data) return <Skeleton className="h-40 w-full" />;

  const run = async (method: string, path: string, body?: unknown) => {
    setBusy(true);
    setError(null);
    try {
      qc.setQueryData(['console', 'users'], await call(method, path, body));
      return true;
    } catch (e) {
      setError((e as Error).message);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const { editable, self } = users.data;
  const off = editable ? null : 'Users are fixed by this console\'s environment (lab or test).';

  const add = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const formEl = e.currentTarget;
    const f = new FormData(formEl);
    if (await run('POST', '/api/users', { name: f.get('name'), role: f.get('role'), password: f.get('password') })) formEl.reset();
  };

  return (
    <div className="mx-auto max-w-3xl space-y-5">
      <div>
        <h1 className="text-lg font-semibold">Users</h1>
        <p className="text-sm text-ink-3">Who may sign in to this console. Changing a user&apos;s role or password, or removing them, ends their sessions at once. On the console host: <code>director console user add NAME --role viewer|operator|admin</code>.</p>
      </div>
      {error ? <p role="alert" className="rounded-md border border-danger/50 px-3 py-2 text-sm text-danger">{error}</p> : null}
      <table className="w-full text-sm">
        <thead>
          <tr className="border-b border-line text-left text-xs text-ink-3"><th className="py-2">Name</th><th>Role</th><th className="text-right">Actions</th></tr>
        </thead>
        <tbody>
          {users.data.users.map((u) => (
            <tr key={u.name} className="border-b border-line/60">
              <td className="py-2 font-medium">{u.name}{u.name === self ? <span className="text-ink-3"> (you)</span> : null}</td>
              <td>
                <label className="sr-only" htmlFor={`role-${u.name}`}>Role of {u.name}</label>
                <select
                  id={`role-${u.name}`}
                  value={u.role}
                  disabled={busy || !editable}
                  className={`${inputClass} w-36`}
                  onChange={(e) => void run('PATCH', `/api/users/${encodeURIComponent(u.name)}`, { role: e.target.value })}
                >
                  {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
                </select>
              </td>
              <td className="space-x-2 text-right">
                <Button
                  size="sm"
                  disabledReason={off}
                  disabled={busy}
                  onClick={() => {
                    setPwError(null);
                    setPasswordFor(u.name);
                  }}
                >Set password</Button>
                <Button
                  size="sm"
                  variant="danger"
                  disabledReason={off}
                  disabled={busy}
                  onClick={() => setRemoving(u.name)}
                >Remove</Button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ConfirmDialog
        open={removing !== null}
        title={`Remove ${removing ?? ''}?`}
        confirmLabel="Remove user"
        onCancel={() => setRemoving(null)}
        onConfirm={async () => {
          const name = removing!;
          setRemoving(null);
          await run('DELETE', `/api/users/${encodeURIComponent(name)}`);
        }}
      >
        <p className="text-sm">{removing} can no longer sign in; their open sessions and pages end at once.</p>
      </ConfirmDialog>
      <Dialog open={passwordFor !== null} onClose={() => setPasswordFor(null)} title={`New password for ${passwordFor ?? ''}`}>
        <form
          className="space-y-4"
          onSubmit={async (e) => {
            e.preventDefault();
            const pw = String(new FormData(e.currentTarget).get('password') ?? '');
            setPwError(null);
            try {
              qc.setQueryData(['console', 'users'], await call('PATCH', `/api/users/${encodeURIComponent(passwordFor!)}`, { password: pw }));
              setPasswordFor(null);
            } catch (err) {
              setPwError((err as Error).message);
            }
          }}
        >
          <Field id="set-password" label="Password" hint="At least 10 characters. Their open sessions end." error={pwError ?? undefined}>
            <input id="set-password" name="password" type="password" required autoComplete="new-password" className={inputClass} autoFocus />
          </Field>
          <div className="flex justify-end gap-2">
            <Button onClick={() => setPasswordFor(null)}>Cancel</Button>
            <Button type="submit" variant="primary">Set password</Button>
          </div>
        </form>
      </Dialog>
      <form onSubmit={add} className="grid grid-cols-1 gap-3 rounded-lg border border-line bg-panel p-4 sm:grid-cols-4 sm:items-end" aria-label="Add a user">
        <Field id="new-name" label="Name"><input id="new-name" name="name" required autoComplete="off" className={inputClass} disabled={!editable} /></Field>
        <Field id="new-role" label="Role">
          <select id="new-role" name="role" defaultValue="viewer" className={inputClass} disabled={!editable}>
            {ROLES.map((r) => <option key={r} value={r}>{r} ({ROLE_HINT[r]})</option>)}
          </select>
        </Field>
        <Field id="new-password" label="Password"><input id="new-password" name="password" type="password" minLength={10} required autoComplete="new-password" className={inputClass} disabled={!editable} /></Field>
        <Button type="submit" variant="primary" disabledReason={off} disabled={busy}>Add user</Button>
      </form>
    </div>
  );
}
