'use client';
import { usePathname, useRouter } from 'next/navigation';

/** Switches director and keeps the operator on the same kind of page. */
export function DirectorSwitcher({ directors, current }: { directors: Array<{ id: string; name: string }>; current: string | null }) {
  const router = useRouter();
  const pathname = usePathname();
  return (
    <label className="flex items-center gap-2 text-xs text-ink-3">
      <span className="sr-only 2xl:not-sr-only">Director</span>
      <select
        aria-label="Director"
        value={current ?? ''}
        onChange={(e) => {
          const id = e.target.value;
          const rest = current && pathname.startsWith(`/d/${current}`) ? pathname.slice(`/d/${current}`.length) : '';
          // A service page of one director means nothing on another: go to its overview.
          const keep = /^\/(connections|snapshots|lab)\/?$/.test(rest) ? rest : '';
          router.push(`/d/${encodeURIComponent(id)}${keep}`);
        }}
        className="h-8 max-w-56 rounded-md border border-line bg-panel px-2 text-sm text-ink"
      >
        {current === null ? <option value="" disabled>Choose…</option> : null}
        {directors.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
      </select>
    </label>
  );
}
