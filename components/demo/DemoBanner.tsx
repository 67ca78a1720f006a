export function DemoBanner() {
  return (
    <div role="note" className="mb-4 rounded-md border border-dashed border-warn/60 bg-warn/5 px-4 py-2 text-xs text-ink-2">
      <strong className="text-warn">Demo data.</strong> This page renders the console&apos;s components with synthetic figures (no director is involved). It exists only in development or with DIRECTOR_CONSOLE_DEMO=1.
    </div>
  );
}
