'use client';
import Link from 'next/link';
import { useParams, usePathname } from 'next/navigation';
import { useEffect, useState } from 'react';
import { useMe } from '../data/session';
import { cx } from '../ui/cx';
import { DirectorSwitcher } from './DirectorSwitcher';
import { LiveIndicator } from './LiveIndicator';
import { ThemeToggle } from './ThemeToggle';

const LAST_DIRECTOR = 'director:last';

export function Header() {
  const me = useMe();
  const params = useParams<{ director?: string }>();
  const pathname = usePathname();
  const inUrl = params.director ? decodeURIComponent(params.director) : null;
  // Pages of the whole console (HA, Directors, Users) keep the director chosen last in the navigation.
  const [remembered, setRemembered] = useState<string | null>(null);
  useEffect(() => {
    if (inUrl) sessionStorage.setItem(LAST_DIRECTOR, inUrl);
    else setRemembered(sessionStorage.getItem(LAST_DIRECTOR));
  }, [inUrl]);
  const current = inUrl ?? (remembered && me.data?.directors.some((d) => d.id === remembered) ? remembered : null);
  const base = current ? `/d/${encodeURIComponent(current)}` : pathname.startsWith('/demo') ? '/demo' : null;
  const tabs = base
    ? [
        { href: base, label: 'Overview', match: (p: string) => p === base || p.startsWith(`${base}/s/`) },
        { href: `${base}/connections`, label: 'Connections', match: (p: string) => p.startsWith(`${base}/connections`) },
        ...(current ? [{ href: `${base}/health`, label: 'Health', match: (p: string) => p.startsWith(`${base}/health`) }] : []),
        ...(current ? [{ href: `${base}/doctor`, label: 'Doctor', match: (p: string) => p.startsWith(`${base}/doctor`) }] : []),
        { href: `${base}/snapshots`, label: 'Snapshots', match: (p: string) => p.startsWith(`${base}/snapshots`) },
        ...(current ? [{ href: `${base}/draft`, label: 'Draft', match: (p: string) => p.startsWith(`${base}/draft`) }] : []),
        ...(current ? [{ href: `${base}/settings`, label: 'Settings', match: (p: string) => p.startsWith(`${base}/settings`) }] : []),
        { href: `${base}/lab`, label: 'Lab', match: (p: string) => p.startsWith(`${base}/lab`) },
      ]
    : [];
  if (me.data?.directors.length && !pathname.startsWith('/demo')) {
    tabs.unshift({ href: '/', label: 'Fleet', match: (p: string) => p === '/' });
    tabs.push({ href: '/ha', label: 'HA', match: (p: string) => p.startsWith('/ha') });
  }
  if (me.data?.user.role === 'admin' && !pathname.startsWith('/demo')) {
    tabs.push({ href: '/directors', label: 'Directors', match: (p: string) => p.startsWith('/directors') });
    tabs.push({ href: '/users', label: 'Users', match: (p: string) => p.startsWith('/users') });
  }
  return (
    <header className="sticky top-0 z-20 border-b border-line bg-panel/95 backdrop-blur">
      <div className="mx-auto flex h-12 max-w-[1800px] items-center gap-2 px-3 sm:gap-4 sm:px-4">
        <Link href="/" className="flex shrink-0 items-center gap-2 font-semibold tracking-tight text-ink">
          <svg width="18" height="18" viewBox="0 0 18 18" aria-hidden><circle cx="4" cy="9" r="2.5" fill="var(--accent)" /><path d="M6.5 9L15 3M6.5 9H15M6.5 9L15 15" stroke="var(--accent)" strokeWidth="1.6" /></svg>
          <span className="hidden lg:inline">Director</span>
        </Link>
        {me.data && me.data.directors.length > 0 ? <DirectorSwitcher directors={me.data.directors} current={current} /> : null}
        <nav aria-label="Sections" className="flex min-w-0 items-center gap-1 overflow-x-auto">
          {tabs.map((t) => (
            <Link
              key={t.href}
              href={t.href}
              aria-current={t.match(pathname) ? 'page' : undefined}
              className={cx('shrink-0 rounded-md px-2 py-1.5 text-sm lg:px-2.5', t.match(pathname) ? 'bg-panel-2 font-medium text-ink' : 'text-ink-2 hover:text-ink')}
            >
              {t.label}
            </Link>
          ))}
        </nav>
        <div className="ml-auto flex shrink-0 items-center gap-3">
          {inUrl || pathname.startsWith('/demo') ? <LiveIndicator /> : null}
          <ThemeToggle />
          {me.data ? (
            <form action="/api/session/logout" method="post" className="flex items-center gap-2">
              <span className="hidden text-xs text-ink-2 xl:inline" title={`Role: ${me.data.user.role}`}>
                {me.data.user.name} <span className="text-ink-3">· {me.data.user.role}</span>
              </span>
              <button type="submit" title={`Signed in as ${me.data.user.name} (${me.data.user.role})`} className="whitespace-nowrap rounded-md px-2 py-1 text-xs text-ink-2 hover:bg-panel-2 hover:text-ink">Sign out</button>
            </form>
          ) : null}
        </div>
      </div>
    </header>
  );
}
