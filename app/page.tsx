'use client';
import { useRouter } from 'next/navigation';
import { useEffect, useMemo, useState } from 'react';
import { useMe } from '@/components/data/session';
import { FleetView } from '@/components/fleet/FleetView';
import { fleetAlarms, fleetRow } from '@/components/fleet/summary';
import { useFleet } from '@/components/fleet/useFleet';
import { ErrorNote } from '@/components/ui/ErrorNote';
import { Skeleton } from '@/components/ui/Skeleton';

const NONE: ReadonlyArray<{ id: string; name: string }> = [];

/** The console's front door: every director it knows, reachable or not. */
export default function Home() {
  const me = useMe();
  const router = useRouter();
  const directors = me.data?.directors ?? NONE;
  const { inputs, history } = useFleet(directors);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(t);
  }, []);
  useEffect(() => {
    if (me.data === null) router.replace('/login');
  }, [me.data, router]);
  const rows = useMemo(() => inputs.map((d) => (d ? fleetRow(d) : null)), [inputs]);
  const alarms = useMemo(() => fleetAlarms(inputs.flatMap((d) => (d ? [d] : []))), [inputs]);
  if (me.error) return <ErrorNote title="The console server did not answer">Reload the page; if it keeps failing, check that <code>console/server.ts</code> is running.</ErrorNote>;
  if (me.data && me.data.directors.length === 0) {
    return <ErrorNote title="No directors yet">On a director run <code>director agent enroll</code> and paste its code in <a className="underline" href="/directors">Directors</a> (admins), or run <code>director console add-agent CODE</code> on this host; directors can also be listed in <code>/etc/director/console.toml</code> (<code>[[agents]]</code>).</ErrorNote>;
  }
  if (!me.data) return <Skeleton className="h-40 w-full" />;
  return <FleetView rows={rows} alarms={alarms} history={history} now={now} loading={directors.map((d) => d.name)} />;
}
