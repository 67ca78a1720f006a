'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useEffect, useState } from 'react';
import { formatServiceKey } from '@/lib/ipvs/format';
import { serviceId } from '@/lib/ipvs/ids';
import { destinationSpecOf } from '@/lib/ipvs/config';
import { errorText, useDirectorAccess, useDirectorId, useServices } from '@/components/data/hooks';
import { useTRPC } from '@/components/data/trpc';
import { CheckConfigForm } from '@/components/health/CheckConfigForm';
import { CheckNowButton } from '@/components/health/CheckNowButton';
import { checkSummary, healthCounts } from '@/components/health/check-summary';
import { HealthDetails, HealthServiceRow, HealthTable } from '@/components/health/HealthView';
import { Panel } from '@/components/ui/Panel';
import { ErrorNote } from '@/components/ui/ErrorNote';
import { TableSkeleton } from '@/components/ui/Skeleton';

function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export default function HealthPage() {
  const director = useDirectorId();
  const trpc = useTRPC();
  const qc = useQueryClient();
  const access = useDirectorAccess(director);
  const services = useServices();
  const now = useNow();
  const list = useQuery({ ...trpc.health.list.queryOptions({}), refetchInterval: 2000 });
  const history = useQuery(trpc.health.history.queryOptions({ limit: 200 }));
  const config = useQuery(trpc.health.config.get.queryOptions({}));
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: trpc.health.pathKey() });
  };
  useSubscription(trpc.health.onTransition.subscriptionOptions({}, { onData: refresh }));
  const setConfig = useMutation(trpc.health.config.set.mutationOptions({ onSuccess: refresh }));
  const maintenance = useMutation(trpc.health.maintenance.set.mutationOptions({ onSuccess: refresh }));
  const checkNow = useMutation(trpc.health.checkNow.mutationOptions());
  // the scripts misc checks may name: operators only (it is the agent's folder, not the table)
  const scripts = useQuery({ ...trpc.health.scripts.queryOptions(), enabled: !access.disabledReason });
  const [openIds, setOpenIds] = useState<ReadonlySet<string>>(() => new Set());
  const [editIds, setEditIds] = useState<ReadonlySet<string>>(() => new Set());

  const error = errorText(services.error) ?? errorText(list.error);
  if (error) return <ErrorNote title="Health checks are unavailable">{error}</ErrorNote>;
  if (services.isPending || list.isPending) return <TableSkeleton />;

  const all = services.data ?? [];
  const checked = all.filter((s) => (config.data ?? []).some((c) => serviceId(c.service) === serviceId(s.key) && c.realServers.some((r) => r.checks.length > 0)));
  return (
    <div className="space-y-4">
      <div>
        <h1 className="text-lg font-semibold">Health checks</h1>
        <p className="text-sm text-ink-2">
          The agent checks each real server from the director (HTTP GET, TCP connect or a script from its checks folder; no ping, which proves only the IP layer)
          and quiesces or removes a server that fails, restoring it when it passes again.
          {all.length > 0 ? <> <span className="num">{checked.length}</span> of <span className="num">{all.length}</span> services are checked.</> : null}
        </p>
      </div>
      {all.length === 0 ? (
        <Panel><p className="py-6 text-center text-sm text-ink-3">No virtual services yet. Add one on the Overview; its real servers can then be checked here.</p></Panel>
      ) : (
        <Panel bodyClassName="p-0">
          <ul aria-label="Services">
            {all.map((s) => {
              const sid = serviceId(s.key);
              const rows = (list.data ?? []).filter((r) => r.serviceId === sid);
              const cfg = (config.data ?? []).find((c) => serviceId(c.service) === sid) ?? null;
              const title = formatServiceKey(s.key);
              return (
                <HealthServiceRow
                  key={sid}
                  title={title}
                  summary={checkSummary(cfg)}
                  counts={healthCounts(rows)}
                  servers={s.destinations.length}
                  open={openIds.has(sid)}
                  editing={editIds.has(sid)}
                  onOpen={(on) => setOpenIds((x) => toggled(x, sid, on))}
                  onEdit={(on) => setEditIds((x) => toggled(x, sid, on))}
                  disabledReason={access.disabledReason}
                  details={() => (
                    <HealthDetails
                      now={now}
                      timeline={(history.data ?? []).filter((e) => serviceId(e.service) === sid).slice(0, 50)}
                      table={(
                        <HealthTable
                          rows={rows}
                          now={now}
                          disabledReason={access.disabledReason}
                          onMaintenance={(r, on) => {
                            const d = rows.find((x) => x.destinationId === r.destinationId)!.destination;
                            maintenance.mutate({ service: s.key, destination: d, on });
                          }}
                          renderCheckNow={(r) => {
                            const d = rows.find((x) => x.destinationId === r.destinationId)!.destination;
                            return (
                              <CheckNowButton
                                disabledReason={access.disabledReason}
                                run={() => checkNow.mutateAsync({ service: s.key, destination: d })}
                              />
                            );
                          }}
                        />
                      )}
                    />
                  )}
                  form={() => (
                    <CheckConfigForm
                      key={`${sid} ${cfg ? JSON.stringify(cfg.timing) : ''}`}
                      service={s.key}
                      destinations={s.destinations.map(destinationSpecOf)}
                      current={cfg}
                      scripts={scripts.data ?? null}
                      disabledReason={access.disabledReason}
                      onSave={async (c) => { await setConfig.mutateAsync({ config: c }); setEditIds((x) => toggled(x, sid, false)); }}
                    />
                  )}
                />
              );
            })}
          </ul>
        </Panel>
      )}
    </div>
  );
}

function toggled(set: ReadonlySet<string>, id: string, on: boolean): Set<string> {
  const next = new Set(set);
  if (on) next.add(id);
  else next.delete(id);
  return next;
}
