'use client';
import Link from 'next/link';
import { useParams, usePathname } from 'next/navigation';
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useMe } from '../data/session';
import { cx } from '../ui/cx';
import { DirectorSwitcher } from './DirectorSwitcher';
import { LiveIndicator } from './LiveIndicator';
import { tabsThatFit } from './tabs-fit';
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
  // The tabs and the logo are not prefetched: a page opened on a director over a slow link loads its own code only.
  // Tabs that do not fit move into a More menu, so the header never scrolls sideways nor cuts a tab off
  // (an admin has twelve). Widths are measured once drawn; the navigation takes the room the rest leaves.
  const navRef = useRef<HTMLElement>(null);
  const widths = useRef(new Map<string, number>());
  const moreWidth = useRef(72);
  const labels = tabs.map((t) => t.label).join('|');
  // a new set of tabs is first drawn whole, so each is measured before any moves into More
  const [fitFor, setFitFor] = useState({ labels, n: tabs.length });
  const fit = fitFor.labels === labels ? fitFor.n : tabs.length;
  const [moreOpen, setMoreOpen] = useState(false);
  useLayoutEffect(() => {
    const nav = navRef.current;
    if (!nav) return;
    const measure = () => {
      for (const el of nav.querySelectorAll<HTMLElement>('[data-tab]')) widths.current.set(el.dataset.tab!, el.offsetWidth);
      const all = labels ? labels.split('|').map((l) => widths.current.get(l) ?? l.length * 8 + 20) : [];
      // the nav's width is the room the header leaves it (flex-1, min-w-0), whatever it holds
      const moreButton = nav.querySelector<HTMLElement>('[data-more]');
      if (moreButton) moreWidth.current = moreButton.offsetWidth;
      const n = tabsThatFit(all, nav.clientWidth, moreWidth.current);
      setFitFor((f) => (f.labels === labels && f.n === n ? f : { labels, n }));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(nav);
    return () => ro.disconnect();
  }, [labels, fit]); // again once More is drawn: its own width, not the guess
  const moreRef = useRef<HTMLDivElement>(null);
  useEffect(() => setMoreOpen(false), [pathname]);
  useEffect(() => {
    if (!moreOpen) return;
    const close = (e: Event) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !moreRef.current?.contains(e.target as Node)) setMoreOpen(false);
    };
    document.addEventListener('pointerdown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('pointerdown', close);
      document.removeEventListener('keydown', close);
    };
  }, [moreOpen]);
  const shown = tabs.slice(0, fit);
  const more = tabs.slice(fit);
  const tabClass = (active: boolean) => cx('shrink-0 rounded-md px-2 py-1.5 text-sm', active ? 'bg-panel-2 font-medium text-ink' : 'text-ink-2 hover:text-ink');
  return (
    <header className="sticky top-0 z-20 border-b border-line bg-panel/95 backdrop-blur">
      <div className="mx-auto flex h-12 max-w-[1800px] items-center gap-2 px-3 sm:gap-3 sm:px-4">
        <Link href="/" prefetch={false} className="flex shrink-0 items-center gap-2 font-semibold tracking-tight text-ink">
          <svg width="18" height="18" viewBox="0 0 18 18" aria-hidden><circle cx="4" cy="9" r="2.5" fill="var(--accent)" /><path d="M6.5 9L15 3M6.5 9H15M6.5 9L15 15" stroke="var(--accent)" strokeWidth="1.6" /></svg>
          <span className="hidden 2xl:inline">Director</span>
        </Link>
        {me.data && me.data.directors.length > 0 ? <DirectorSwitcher directors={me.data.directors} current={current} /> : null}
        <nav ref={navRef} aria-label="Sections" className="flex min-w-0 flex-1 items-center gap-1">
          <div className="flex min-w-0 items-center gap-1 overflow-hidden">
            {shown.map((t) => (
              <Link key={t.href} href={t.href} prefetch={false} data-tab={t.label} aria-current={t.match(pathname) ? 'page' : undefined} className={tabClass(t.match(pathname))}>
                {t.label}
              </Link>
            ))}
          </div>
          {more.length > 0 ? (
            <div ref={moreRef} className="relative shrink-0">
              <button
                type="button"
                data-more
                aria-expanded={moreOpen}
                aria-haspopup="true"
                onClick={() => setMoreOpen((o) => !o)}
                className={tabClass(more.some((t) => t.match(pathname)))}
              >
                More ▾
              </button>
              {moreOpen ? (
                <div className="absolute right-0 top-full z-30 mt-1 flex min-w-36 flex-col rounded-md border border-line bg-panel p-1 shadow-lg">
                  {more.map((t) => (
                    <Link key={t.href} href={t.href} prefetch={false} aria-current={t.match(pathname) ? 'page' : undefined} onClick={() => setMoreOpen(false)} className={tabClass(t.match(pathname))}>
                      {t.label}
                    </Link>
                  ))}
                </div>
              ) : null}
            </div>
          ) : null}
        </nav>
        <div className="flex shrink-0 items-center gap-3">
          {inUrl || pathname.startsWith('/demo') ? <LiveIndicator /> : null}
          <ThemeToggle />
          {me.data ? (
            <form action="/api/session/logout" method="post" className="flex items-center gap-2">
              <span className="hidden text-xs text-ink-2 2xl:inline" title={`Role: ${me.data.user.role}`}>
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
