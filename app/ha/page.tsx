'use client';
import { useRouter } from 'next/navigation';
import { useEffect, useMemo, useState } from 'react';
import { canOperate, useMe } from '@/components/data/session';
import { HaView, type HaActions } from '@/components/ha/HaView';
import { haProcedures } from '@/components/ha/ha-client';
import { handBack, type HandBack } from '@/components/ha/handback';
import { useHaCluster } from '@/components/ha/useHaCluster';
import { RehearsalsPanel } from '@/components/ha/Rehearsals';
import { useRehearsals } from '@/components/ha/useRehearsals';
import { ErrorNote } from '@/components/ui/ErrorNote';
import { Skeleton } from '@/components/ui/Skeleton';

/** High availability across every director the console knows: one page, because a VIP group spans directors. */
export default function HaPage() {
  const me = useMe();
  const router = useRouter();
  useEffect(() => {
    if (me.data === null) router.replace('/login');
  }, [me.data, router]);
  if (me.error) return <ErrorNote title="The console server did not answer">Reload the page; if it keeps failing, check that <code>console/server.ts</code> is running.</ErrorNote>;
  if (!me.data) return <Skeleton className="h-40 w-full" />;
  if (me.data.directors.length === 0) {
    return <ErrorNote title="No directors yet">On a director run <code>director agent enroll</code> and paste its code in <a className="underline" href="/directors">Directors</a> (admins), or run <code>director console add-agent CODE</code> on this host; directors can also be listed in <code>/etc/director/console.toml</code> (<code>[[agents]]</code>).</ErrorNote>;
  }
  return <Cluster directors={me.data.directors as Array<{ id: string; name: string; role?: 'viewer' | 'operator' }>} user={me.data.user} />;
}

function Cluster({ directors, user }: { directors: Array<{ id: string; name: string; role?: 'viewer' | 'operator' }>; user: { name: string; role: string } }) {
  const refs = useMemo(() => directors.map((d) => ({ id: d.id, name: d.name })), [directors]);
  const { view, now, refresh } = useHaCluster(refs);
  const actions: HaActions = useMemo(() => ({
    disabledReason: (id) => {
      if (!canOperate(user.role)) return `Signed in as ${user.name} (viewer): handing over and maintenance need the operator role.`;
      if (directors.find((d) => d.id === id)?.role === 'viewer') return 'The console holds only a viewer token for this director; ask an administrator to configure its operator token.';
      return null;
    },
    handover: async (holder, group) => {
      await haProcedures(holder).handover.mutate({ group });
      for (const d of refs) refresh(d.id);
    },
    maintenance: async (id, on) => {
      await haProcedures(id).maintenance.mutate({ on });
      for (const d of refs) refresh(d.id);
    },
    confirmReplicated: async (id, seq) => {
      await haProcedures(id).confirmReplicated.mutate({ seq });
      refresh(id);
    },
  }), [directors, refs, refresh, user]);
  const [back, setBack] = useState<{ running: string } | HandBack | null>(null);
  const rehearsals = useRehearsals(useMemo(() => refs.map((d) => d.id), [refs]));
  const names = useMemo(() => new Map(refs.map((d) => [d.id, d.name])), [refs]);
  if (view.loading && view.cards.every((c) => c.feed === 'loading')) return <Skeleton className="h-64 w-full" />;
  const groups = view.groups.map((g) => ({ name: g.name, holder: g.leaseHolder, peers: g.members.map((m) => m.director).filter((d) => d !== g.leaseHolder) }));
  return (
    <div className="space-y-5">
      <HaView view={view} now={now} actions={actions} />
      {groups.length > 0 ? (
        <RehearsalsPanel groups={groups} history={rehearsals.history} running={rehearsals.running} names={names}
          disabledReason={actions.disabledReason}
          handBack={back}
          rehearse={async (holder, group, andBack) => {
            setBack(null);
            const done = haProcedures(holder).rehearse.mutate({ group });
            void rehearsals.reload();
            const r = await done;
            await rehearsals.reload();
            for (const d of refs) refresh(d.id);
            if (andBack && r.result === 'ready' && r.newHolder) {
              setBack({ running: holder });
              setBack(await handBack(r.newHolder, holder, group));
              for (const d of refs) refresh(d.id);
            }
            return r;
          }} />
      ) : null}
    </div>
  );
}
