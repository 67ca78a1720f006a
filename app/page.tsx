'use client';
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';
import { useMe } from '@/components/data/session';
import { ErrorNote } from '@/components/ui/ErrorNote';
import { Skeleton } from '@/components/ui/Skeleton';

/** The console's front door: go to the first configured director. */
export default function Home() {
  const me = useMe();
  const router = useRouter();
  const first = me.data?.directors[0];
  useEffect(() => {
    if (me.data === null) router.replace('/login');
    else if (first) router.replace(`/d/${encodeURIComponent(first.id)}`);
  }, [me.data, first, router]);
  if (me.error) return <ErrorNote title="The console server did not answer">Reload the page; if it keeps failing, check that <code>console/server.ts</code> is running.</ErrorNote>;
  if (me.data && me.data.directors.length === 0) {
    return <ErrorNote title="No directors yet">On a director run <code>director agent enroll</code> and paste its code in <a className="underline" href="/directors">Directors</a> (admins), or run <code>director console add-agent CODE</code> on this host; directors can also be listed in <code>/etc/director/console.toml</code> (<code>[[agents]]</code>).</ErrorNote>;
  }
  return <Skeleton className="h-40 w-full" />;
}
