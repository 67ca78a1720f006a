import Link from 'next/link';

/** Above a director's pages while its draft holds staged edits: they are not live until applied. */
export function DraftBanner({ count, href }: { count: number; href: string }) {
  if (count === 0) return null;
  return (
    <div role="status" data-testid="draft-banner" className="mb-4 flex items-center justify-between gap-3 rounded-md border border-accent/40 bg-accent/5 px-4 py-2 text-sm">
      <span><strong>{count} staged edit{count === 1 ? '' : 's'}</strong> in this director's draft, not applied yet.</span>
      <Link className="font-medium text-accent underline" href={href}>Review the draft</Link>
    </div>
  );
}
