'use client';
import { useState } from 'react';
import { Button } from '@/components/ui/Button';

export interface CheckNowResult {
  ok: boolean;
  results: { ok: boolean; message: string; durationMs: number; check: string }[];
}

/** Runs the configured checks once (a dry run: the table is not touched) and shows what they said. */
export function CheckNowButton({ run, disabledReason }: { run: () => Promise<CheckNowResult>; disabledReason?: string | null }) {
  const [busy, setBusy] = useState(false);
  const [out, setOut] = useState<string | null>(null);
  const [ok, setOk] = useState<boolean | null>(null);
  return (
    <span className="inline-flex items-center gap-2">
      <Button
        size="sm"
        disabledReason={disabledReason ?? null}
        disabled={busy}
        title="Run the checks now without changing any weight"
        onClick={async () => {
          setBusy(true);
          try {
            const r = await run();
            setOk(r.ok);
            setOut(r.results.map((x) => `${x.check}: ${x.message} (${Math.round(x.durationMs)} ms)`).join('; '));
          } catch (e) {
            setOk(false);
            setOut((e as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? 'Checking…' : 'Check now'}
      </Button>
      {out ? <span role="status" className={ok ? 'text-xs text-ok' : 'text-xs text-danger'}>{out} · dry run</span> : null}
    </span>
  );
}
