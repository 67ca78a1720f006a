'use client';
import { useState } from 'react';
import { Field, inputClass } from '@/components/ui/Field';
import { Button } from '@/components/ui/Button';

export default function LoginPage() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div className="mx-auto mt-16 max-w-sm rounded-lg border border-line bg-panel p-6">
      <h1 className="mb-1 text-lg font-semibold">Sign in to Director</h1>
      <p className="mb-5 text-sm text-ink-3">Use the account configured for this console. Viewers can watch; operators can change rules.</p>
      <form
        className="space-y-4"
        onSubmit={async (e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          setBusy(true);
          setError(null);
          try {
            const res = await fetch('/api/session', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ username: form.get('username'), password: form.get('password') }),
            });
            if (res.ok) {
              // A full load so every cached query starts over under the new identity.
              window.location.assign('/');
              return;
            }
            const body = (await res.json().catch(() => null)) as { error?: string } | null;
            setError(body?.error ?? `Sign-in failed (${res.status}).`);
          } catch {
            setError('The console server did not answer. Check that it is running and reload.');
          } finally {
            setBusy(false);
          }
        }}
      >
        <Field id="username" label="Username">
          <input id="username" name="username" autoComplete="username" required className={inputClass} autoFocus />
        </Field>
        <Field id="password" label="Password" error={error ?? undefined}>
          <input id="password" name="password" type="password" autoComplete="current-password" required className={inputClass} aria-invalid={error ? true : undefined} />
        </Field>
        <Button type="submit" variant="primary" className="w-full" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</Button>
      </form>
    </div>
  );
}
