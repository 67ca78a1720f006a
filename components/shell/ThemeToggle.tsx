'use client';
import { useEffect, useState } from 'react';

/** Flips the `dark` class set before paint by the script in app/layout.tsx, and remembers the choice. */
export function ThemeToggle() {
  const [dark, setDark] = useState<boolean | null>(null);
  useEffect(() => setDark(document.documentElement.classList.contains('dark')), []);
  return (
    <button
      type="button"
      onClick={() => {
        const next = !document.documentElement.classList.contains('dark');
        document.documentElement.classList.toggle('dark', next);
        localStorage.setItem('director-theme', next ? 'dark' : 'light');
        setDark(next);
      }}
      aria-label={dark ? 'Switch to light mode' : 'Switch to dark mode'}
      title={dark ? 'Light mode' : 'Dark mode'}
      className="grid h-8 w-8 place-items-center rounded-md text-ink-2 hover:bg-panel-2 hover:text-ink"
    >
      <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden fill="currentColor">
        {dark ? (
          <path d="M8 3a5 5 0 100 10A5 5 0 008 3zm0-3h0v2M8 14v2M0 8h2m12 0h2M2.3 2.3l1.4 1.4m8.6 8.6l1.4 1.4m0-11.4l-1.4 1.4M3.7 12.3l-1.4 1.4" stroke="currentColor" strokeWidth="1.2" />
        ) : (
          <path d="M6 .5a7.5 7.5 0 108.9 9.6A6 6 0 016 .5z" />
        )}
      </svg>
    </button>
  );
}

/** Runs before React hydrates so the first paint already has the right theme. */
export const THEME_INIT_SCRIPT = `(function(){try{var t=localStorage.getItem('director-theme');var d=t?t==='dark':matchMedia('(prefers-color-scheme: dark)').matches;if(d)document.documentElement.classList.add('dark')}catch(e){}})()`;
