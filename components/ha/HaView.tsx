'use client';
/**
 * The HA panel: alarms first (an operator glancing at it must see a split
 * brain or a dead agent before anything else), then per director, per VIP
 * group, and the merged timeline. Data-free: the page passes the cluster view
 * and the actions.
 */
import Link from 'next/link';
import { useState, type ReactNode } from 'react';
import type { HaStatus } from '@/lib/schemas/ha';
import { Badge } from '../ui/Badge';
import { Button } from '../ui/Button';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { Panel } from '../ui/Panel';
import { cx } from '../ui/cx';
import { VRRP_TONE, type Alarm, type ClusterView, type DirectorCard, type DnsView, type GroupView, type MemberRow, type TimelineItem } from './cluster';

export interface HaActions {
  /** why operator actions on this director are disabled (null: allowed) */
  disabledReason: (directorId: string) => string | null;
  handover: (holder: string, group: string) => Promise<unknown>;
  maintenance: (directorId: string, on: boolean) => Promise<unknown>;
  /** apply the replicated change a director holds (it removes too many services) */
  confirmReplicated: (directorId: string, seq: number) => Promise<unknown>;
}

export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

const clock = (t: number) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function HaView({ view, now, actions }: { view: ClusterView; now: number; actions: HaActions }) {
  const names = new Map(view.cards.map((c) => [c.ref.id, c.ref.name]));
  const configured = view.cards.filter((c) => c.status?.enabled || c.feed === 'unreachable');
  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h1 className="text-lg font-semibold">High availability</h1>
        <p className="text-xs text-ink-3">
          VIP holders come from each director&apos;s kernel; the lease from ZooKeeper. Updates live.
        </p>
      </div>
      {view.alarms.length > 0 ? <Alarms alarms={view.alarms} now={now} /> : null}
      {configured.length > 0 ? (
        <div className="grid gap-4 lg:grid-cols-2" aria-label="Directors">
          {configured.map((c) => <DirectorPanel key={c.ref.id} card={c} now={now} actions={actions} />)}
        </div>
      ) : null}
      {view.dns ? <DnsPanel dns={view.dns} names={names} now={now} /> : null}
      {/* master-master: the groups side by side, so who serves what reads at a glance */}
      <div className={cx('grid gap-4', view.groups.length > 1 && 'xl:grid-cols-2')} aria-label="VIP groups">
        {view.groups.map((g) => <GroupPanel key={g.name} group={g} names={names} actions={actions} />)}
      </div>
      {view.notConfigured.length > 0 ? <NotConfigured cards={view.cards.filter((c) => view.notConfigured.some((n) => n.id === c.ref.id))} /> : null}
      {configured.length > 0 ? (
        <Panel title="Transitions" actions={<span className="text-xs text-ink-3">all directors, newest first</span>}>
          <Timeline items={view.timeline} names={names} now={now} />
        </Panel>
      ) : null}
    </div>
  );
}

function Alarms({ alarms, now }: { alarms: readonly Alarm[]; now: number }) {
  return (
    <div className="space-y-2" role="alert" aria-label="HA alarms">
      {alarms.map((a) => (
        <div
          key={a.id}
          data-alarm={a.id.split(' ')[0]}
          className={cx(
            'rounded-md border px-4 py-3 text-sm',
            a.tone === 'danger' ? 'border-danger border-l-4 bg-danger/10' : 'border-warn/50 border-l-4 bg-warn/10',
          )}
        >
          <p className={cx('font-semibold', a.tone === 'danger' ? 'text-danger' : 'text-warn')}>
            {a.title}
            {a.since !== null ? <span className="ml-2 font-normal text-ink-2">since {ago(now - a.since).replace(' ago', '')}</span> : null}
          </p>
          <p className="mt-0.5 text-ink-2">{a.detail}</p>
        </div>
      ))}
    </div>
  );
}

const ZK_TONE = { connected: 'ok', connecting: 'warn', disconnected: 'danger', expired: 'danger', disabled: 'neutral' } as const;

function DirectorPanel({ card, now, actions }: { card: DirectorCard; now: number; actions: HaActions }) {
  const s = card.status;
  const [confirm, setConfirm] = useState(false);
  const [confirmHeld, setConfirmHeld] = useState(false);
  const reachable = card.feed === 'ok';
  const held = s?.table.held ?? null;
  const title = (
    <span className="flex items-center gap-2">
      <Link href={`/d/${encodeURIComponent(card.ref.id)}`} className="hover:underline" title={`Services of ${card.ref.name}`}>{card.ref.name}</Link>
      {card.ref.name !== card.ref.id ? <span className="font-mono text-xs font-normal text-ink-3">{card.ref.id}</span> : null}
      {reachable ? <Badge tone="ok" title="Live: statuses arrive as they change">agent live</Badge> : <Badge tone="danger">agent unreachable</Badge>}
      {card.maintenance ? <Badge tone="warn">maintenance</Badge> : null}
    </span>
  );
  const reason = reachable ? actions.disabledReason(card.ref.id) : 'The agent does not answer.';
  return (
    <Panel
      title={title}
      className={cx(!reachable && 'border-danger/60')}
      actions={s ? (
        <Button size="sm" variant={card.maintenance ? 'primary' : 'secondary'} disabledReason={reason} onClick={() => setConfirm(true)}
          title={card.maintenance ? 'Let this director take part again' : 'Release its leases and keep it out of every VIP group'}>
          {card.maintenance ? 'End maintenance' : 'Maintenance'}
        </Button>
      ) : null}
    >
      {s ? <DirectorFacts s={s} now={now} stale={card.staleSince} onConfirmHeld={() => setConfirmHeld(true)} heldDisabledReason={reason} /> : <p className="text-sm text-ink-3">{card.error ? 'No status received from this agent yet (see the alarm above).' : 'Waiting for the agent…'}</p>}
      <ConfirmDialog
        open={confirm}
        title={card.maintenance ? `End maintenance of ${card.ref.name}?` : `Put ${card.ref.name} in maintenance?`}
        confirmLabel={card.maintenance ? 'End maintenance' : 'Start maintenance'}
        onCancel={() => setConfirm(false)}
        onConfirm={async () => {
          await actions.maintenance(card.ref.id, !card.maintenance);
          setConfirm(false);
        }}
      >
        {card.maintenance ? (
          <p>{card.ref.name} joins its VIP groups again as a backup. It takes the master role back only where preempt is on and it has the higher priority.</p>
        ) : (
          <>
            <p>{card.ref.name} releases every lease it holds and is fenced: its VIPs move to the other director (one failover; connections not synced are cut).</p>
            <p className="mt-2">It stays out until you end maintenance. With no other healthy director the VIPs go down.</p>
          </>
        )}
      </ConfirmDialog>
      <ConfirmDialog
        open={confirmHeld && held !== null}
        title={`Apply the held table change on ${card.ref.name}?`}
        confirmLabel="Apply the change"
        onCancel={() => setConfirmHeld(false)}
        onConfirm={async () => {
          await actions.confirmReplicated(card.ref.id, held!.seq);
          setConfirmHeld(false);
        }}
      >
        {held ? (
          <>
            {held.removedCount > 0 ? (
              <>
                <p>{held.from} published a table that removes {held.removedCount} of the {held.of} services on {card.ref.name}:</p>
                <p className="mt-2 font-mono text-xs">{held.removed.join(', ')}{held.removedCount > held.removed.length ? ` and ${held.removedCount - held.removed.length} more` : ''}</p>
                <p className="mt-2">Their clients lose service at once. Apply it only if these services were removed on purpose.</p>
              </>
            ) : null}
            {held.outside?.length ? (
              <>
                <p className="mt-2">It undoes these changes made outside Director on {card.ref.name} (adopt or revert them on its service pages instead, if they should stay or go there alone):</p>
                <ul className="mt-2 font-mono text-xs">{held.outside.map((o) => <li key={o}>{o}</li>)}</ul>
              </>
            ) : null}
          </>
        ) : null}
      </ConfirmDialog>
    </Panel>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-ink-3">{label}</dt>
      <dd className="flex flex-wrap items-center gap-2 text-ink">{children}</dd>
    </>
  );
}

function DirectorFacts({ s, now, stale, onConfirmHeld, heldDisabledReason }: {
  s: HaStatus; now: number; stale: number | null; onConfirmHeld: () => void; heldDisabledReason: string | null;
}) {
  const zk = s.zookeeper;
  return (
    <dl className="grid grid-cols-[9rem_1fr] gap-x-3 gap-y-2 text-sm">
      {stale !== null ? <Fact label="Status"><span className="text-danger">last received {ago(stale)}: may be out of date</span></Fact> : null}
      <Fact label="ZooKeeper">
        <Badge tone={ZK_TONE[zk.state]}>{zk.state}</Badge>
        <span className="text-ink-3">since {ago(now - zk.since).replace(' ago', '')}</span>
        {zk.failStatic ? <Badge tone="danger">fail static</Badge> : null}
        {zk.message ? <span className="text-ink-2">{zk.message}</span> : null}
      </Fact>
      <Fact label="keepalived">
        {s.keepalived.running ? <Badge tone="ok">running</Badge> : <Badge tone="danger">not running</Badge>}
        {s.keepalived.pid !== null ? <span className="font-mono text-xs text-ink-3">pid {s.keepalived.pid}</span> : null}
        {s.keepalived.lastError ? <span className="text-danger">{s.keepalived.lastError}</span> : null}
      </Fact>
      {s.heartbeat ? (
        <Fact label="Heartbeat path">
          {s.heartbeat.ok ? <Badge tone="ok">peer heard</Badge> : <Badge tone="danger">peer not heard</Badge>}
          <span className="text-ink-3">since {ago(now - s.heartbeat.since).replace(' ago', '')}</span>
          {!s.heartbeat.ok ? <span className="text-ink-2">VRRP adverts cannot cross: the ZooKeeper lease alone keeps one director on the VIPs</span> : null}
        </Fact>
      ) : null}
      <Fact label="Connection sync">
        {s.syncDaemons.length === 0 ? <span className="text-ink-3">no sync daemon: connections do not survive a failover</span> : s.syncDaemons.map((d) => (
          <span key={`${d.state}${d.syncId}`} className="flex items-center gap-1.5">
            <Badge tone={d.state === 'master' ? 'ok' : 'accent'}>{d.state}</Badge>
            <span className="font-mono text-xs text-ink-2">{d.interface} · syncid {d.syncId}</span>
          </span>
        ))}
      </Fact>
      <Fact label="Table replication">
        {s.table.refused ? (
          <span className="text-danger" role="alert" data-testid="table-refused">
            refused {ago(now - s.table.refused.at)}, nothing applied: {s.table.refused.reason}
          </span>
        ) : null}
        {s.table.held ? (
          <span className="flex flex-wrap items-center gap-2 text-danger" role="alert" data-testid="table-held">
            held: {s.table.held.reason}
            <Button size="sm" variant="secondary" disabledReason={heldDisabledReason} onClick={onConfirmHeld}
              title="Apply the replicated change after a look at what it removes">Confirm…</Button>
          </span>
        ) : null}
        {s.table.lastError ? <span className="text-danger">{s.table.lastError}</span> : null}
        {s.table.zkVersion === null && s.table.appliedVersion === null ? (
          <span className="text-ink-3">nothing published yet</span>
        ) : s.table.lastError ? (
          <span className="num text-xs text-ink-3">applied {s.table.appliedVersion ?? '—'} · ZooKeeper {s.table.zkVersion ?? '—'}</span>
        ) : s.table.appliedVersion === s.table.zkVersion ? (
          <span className="flex items-center gap-2"><Badge tone="ok">in step</Badge><span className="num text-xs text-ink-3">version {s.table.appliedVersion}</span></span>
        ) : (
          <span className="flex items-center gap-2"><Badge tone="warn">behind</Badge><span className="num text-xs text-ink-2">applied {s.table.appliedVersion ?? '—'} of {s.table.zkVersion ?? '—'}</span></span>
        )}
      </Fact>
    </dl>
  );
}

export function preemptLine(p: boolean | 'mixed'): string {
  if (p === true) return 'Preempt: the higher-priority director takes the master role back when it returns. Right when it is clearly the better machine; each return costs a second failover.';
  if (p === false) return 'No preempt: after a recovery the director that is serving keeps the role, sparing a second failover; hand over at a quiet moment to move it back.';
  return 'Directors disagree on preempt: set the same value on all of them.';
}

function GroupPanel({ group: g, names, actions }: { group: GroupView; names: ReadonlyMap<string, string>; actions: HaActions }) {
  const [handover, setHandover] = useState<string | null>(null);
  const n = (id: string) => names.get(id) ?? id;
  const others = (id: string) => g.members.filter((m) => m.director !== id).map((m) => n(m.director));
  return (
    <Panel
      className={cx(g.splitBrain && 'border-danger')}
      title={(
        <span className="flex flex-wrap items-center gap-2">
          VIP group <span className="font-mono">{g.name}</span>
          <span className="text-xs font-normal text-ink-3">VRID {g.virtualRouterId}</span>
          <Badge tone={g.preempt === 'mixed' ? 'warn' : 'neutral'}>{g.preempt === 'mixed' ? 'preempt mixed' : g.preempt ? 'preempt' : 'nopreempt'}</Badge>
          {g.splitBrain ? <Badge tone="danger">split brain</Badge> : null}
        </span>
      )}
      actions={(
        <span className="text-sm text-ink-2">
          Master: <GroupMaster group={g} n={n} />
          <span className="mx-2 text-ink-3">·</span>
          Lease: {g.leaseHolder ? <strong className="text-ink">{n(g.leaseHolder)}</strong> : <span className="text-danger">nobody</span>}
          {g.leaseUncertain ? <span className="ml-1 text-warn" title="Directors connected to ZooKeeper disagree, or none is connected">(uncertain)</span> : null}
        </span>
      )}
    >
      <p className="mb-3 text-xs text-ink-3">{preemptLine(g.preempt)}</p>
      <div className="grid gap-5 2xl:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
        <table className="w-full text-sm" aria-label={`VIPs of group ${g.name}`}>
          <thead className="text-left text-xs text-ink-3">
            <tr><th className="w-48 py-1 font-medium">VIP</th><th className="font-medium">Held by</th></tr>
          </thead>
          <tbody>
            {g.vips.map((v) => {
              const split = v.holders.length > 1;
              return (
                <tr key={v.vip} className={cx('border-t border-line', split && 'bg-danger/10')} data-vip={v.vip} data-holders={v.holders.join(' ')}>
                  <td className="py-1.5 font-mono">{v.vip}</td>
                  <td className="py-1.5"><div className="flex flex-wrap items-center gap-1.5">
                    {v.holders.map((h) => <Badge key={h} tone={split ? 'danger' : 'ok'} className="normal-case!">{n(h)}</Badge>)}
                    {v.maybe.map((h) => <Badge key={h} tone="warn" className="normal-case!" title="Agent unreachable: its last status had this VIP">{n(h)}?</Badge>)}
                    {v.holders.length === 0 && v.maybe.length === 0 ? <span className="text-danger">nobody</span> : null}
                    {split ? <span className="text-xs font-semibold text-danger">on {v.holders.length} directors</span> : null}
                  </div></td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <table className="w-full text-sm" aria-label={`Directors in group ${g.name}`}>
          <thead className="text-left text-xs text-ink-3">
            <tr>
              <th className="py-1 font-medium">Director</th><th className="font-medium">VRRP</th><th className="text-right font-medium">Priority</th>
              <th className="pl-3 font-medium">Fencing</th><th />
            </tr>
          </thead>
          <tbody>
            {g.members.map((m) => (
              <MemberLine key={m.director} m={m} holder={g.leaseHolder === m.director} n={n}
                onHandover={g.leaseHolder === m.director && g.members.length > 1 ? () => setHandover(m.director) : null}
                disabledReason={m.reachable ? actions.disabledReason(m.director) : 'The agent does not answer.'} />
            ))}
          </tbody>
        </table>
      </div>
      <ConfirmDialog
        open={handover !== null}
        title={`Hand over group ${g.name}?`}
        confirmLabel="Hand over"
        onCancel={() => setHandover(null)}
        onConfirm={async () => {
          await actions.handover(handover!, g.name);
          setHandover(null);
        }}
      >
        <p>
          {handover ? n(handover) : ''} releases the lease of <span className="font-mono">{g.name}</span> and stays out for about 10 s;
          {' '}{handover ? others(handover).join(', ') : ''} takes the lease and {g.vips.map((v) => v.vip).join(', ')}.
        </p>
        <p className="mt-2">This is one failover: connections not carried by the sync daemon are cut.{g.preempt === true ? ' With preempt on, the higher-priority director takes the role back when it can, so this may be undone.' : ''}</p>
      </ConfirmDialog>
    </Panel>
  );
}

/** The director serving the group: VRRP MASTER with the VIPs in its kernel (the VIPs are the truth). */
function GroupMaster({ group: g, n }: { group: GroupView; n: (id: string) => string }) {
  const holders = [...new Set(g.vips.flatMap((v) => v.holders))];
  if (holders.length === 0) return <span className="text-danger" data-testid={`master-${g.name}`}>nobody</span>;
  return (
    <strong className={cx(holders.length > 1 ? 'text-danger' : 'text-ink')} data-testid={`master-${g.name}`}>
      {holders.map(n).join(' + ')}
    </strong>
  );
}

function DnsPanel({ dns, names, now }: { dns: DnsView; names: ReadonlyMap<string, string>; now: number }) {
  const pending = dns.resolved !== null && dns.resolved.join(',') !== [...dns.published].sort().join(',');
  return (
    <Panel title={<span className="flex items-center gap-2">DNS in front <span className="font-mono text-sm font-normal">{dns.name}</span></span>}
      actions={<span className="text-xs text-ink-3">asked {dns.server} through {names.get(dns.from) ?? dns.from}{dns.resolvedAt !== null ? `, ${ago(now - dns.resolvedAt)}` : ''}</span>}>
      <dl className="grid grid-cols-[9rem_1fr] gap-x-3 gap-y-2 text-sm">
        <Fact label="Resolves to now">
          <span data-testid="dns-resolved" className="flex flex-wrap items-center gap-1.5">
            {dns.resolved === null ? <span className="text-danger">no answer</span>
              : dns.resolved.length === 0 ? <span className="text-danger">nothing: no group has a master in service</span>
              : dns.resolved.map((a) => <Badge key={a} tone="ok" className="font-mono normal-case!">{a}</Badge>)}
          </span>
        </Fact>
        <Fact label="Records">
          <span className="font-mono text-xs text-ink-2">{dns.published.join(', ') || 'none'}</span>
          {dns.publishedAt !== null ? <span className="text-ink-3">since {ago(now - dns.publishedAt).replace(' ago', '')}</span> : null}
          {pending ? <Badge tone="warn">server not caught up</Badge> : null}
          <span className="text-xs text-ink-3">the VIPs of the groups whose master is in service; a director going into maintenance leaves first</span>
        </Fact>
        {dns.error ? <Fact label="Problem"><span className="text-danger">{dns.error}</span></Fact> : null}
      </dl>
    </Panel>
  );
}

function MemberLine({ m, holder, n, onHandover, disabledReason }: {
  m: MemberRow; holder: boolean; n: (id: string) => string; onHandover: (() => void) | null; disabledReason: string | null;
}) {
  return (
    <tr className={cx('h-10 border-t border-line align-middle', !m.reachable && 'opacity-70')} data-director={m.director}>
      <td className="py-1.5">
        <span className="font-medium">{n(m.director)}</span>
        {holder ? <Badge tone="accent" className="ml-2" title="Holds the ZooKeeper lease: the only director allowed to hold the VIPs">lease</Badge> : null}
        {!m.reachable ? <span className="block text-xs text-danger">agent unreachable: last known state</span> : null}
        {!m.zkConnected && m.reachable ? <span className="block text-xs text-warn">no ZooKeeper session</span> : null}
      </td>
      <td className="py-1.5"><VrrpBadge state={m.vrrpState} /></td>
      <td className="num py-1.5 text-right">{m.priority}</td>
      <td className="py-1.5 pl-3">
        <div className="flex flex-wrap items-center gap-1.5">
        {m.maintenance ? <Badge tone="warn">maintenance</Badge> : null}
        {m.fenced ? (
          <span className="flex flex-wrap items-center gap-1.5"><Badge tone="danger">fenced</Badge><span className="text-xs text-ink-2">{m.fenceReason ?? 'no reason given'}</span></span>
        ) : <span className="text-ink-3">not fenced</span>}
        </div>
      </td>
      <td className="py-1.5 text-right">
        {onHandover ? <Button size="sm" disabledReason={disabledReason} onClick={onHandover} title="Manual failover: move this group to the other director">Hand over</Button> : null}
      </td>
    </tr>
  );
}

export function VrrpBadge({ state }: { state: MemberRow['vrrpState'] }) {
  return <Badge tone={VRRP_TONE[state]} className="min-w-[4.5rem] justify-center" title={`keepalived reports ${state}`}>{state}</Badge>;
}

const TIMELINE_SHORT = 12;

function Timeline({ items, names, now }: { items: readonly TimelineItem[]; names: ReadonlyMap<string, string>; now: number }) {
  const [all, setAll] = useState(false);
  if (items.length === 0) return <p className="text-sm text-ink-3">No transitions yet.</p>;
  const shown = all ? items : items.slice(0, TIMELINE_SHORT);
  return (
    <>
    <ol className="space-y-1.5" aria-label="HA transitions">
      {shown.map((t) => (
        <li key={t.key} className="grid grid-cols-[5.5rem_5rem_minmax(0,1fr)] items-baseline gap-x-3 border-l-2 border-line pl-3 text-sm sm:grid-cols-[5.5rem_5rem_5.5rem_minmax(0,1fr)]">
          <time dateTime={new Date(t.at).toISOString()} title={`${new Date(t.at).toLocaleString()} (${ago(now - t.at)})`} className="num text-ink-3">{clock(t.at)}</time>
          {/* the id: names can be long, and the column must stay narrow to line up */}
          <span className="truncate font-mono text-xs font-medium" title={names.get(t.director) ?? t.director}>{t.director}</span>
          <span className="hidden text-xs uppercase tracking-wide text-ink-3 sm:inline">{t.kind}</span>
          <span className="min-w-0">
            <span className="mr-2 whitespace-nowrap font-mono text-xs">
              {t.group && t.group !== '*' ? `${t.group}: ` : ''}{t.from ? `${t.from} → ` : ''}<TransitionTarget kind={t.kind} to={t.to} />
            </span>
            <span className="text-ink-2">{t.reason}</span>
          </span>
        </li>
      ))}
    </ol>
    {items.length > TIMELINE_SHORT ? (
      <Button size="sm" variant="ghost" className="mt-2" onClick={() => setAll(!all)}>
        {all ? `Show the latest ${TIMELINE_SHORT}` : `Show all ${items.length}`}
      </Button>
    ) : null}
    </>
  );
}

function TransitionTarget({ kind, to }: { kind: TimelineItem['kind']; to: string }) {
  if (kind === 'vrrp' && to in VRRP_TONE) {
    const tone = VRRP_TONE[to as keyof typeof VRRP_TONE];
    const cls = { ok: 'text-ok', accent: 'text-accent', danger: 'text-danger', warn: 'text-warn', neutral: 'text-ink-2' }[tone];
    return <strong className={cls}>{to}</strong>;
  }
  return <strong>{to}</strong>;
}

function NotConfigured({ cards }: { cards: readonly DirectorCard[] }) {
  return (
    <Panel title="Directors without high availability">
      <ul className="mb-3 space-y-1 text-sm">
        {cards.map((c) => (
          <li key={c.ref.id}>
            <span className="font-medium">{c.ref.name}</span>
            <span className="text-ink-3"> — {c.status?.zookeeper.message ?? 'its agent runs without an HA configuration'}</span>
          </li>
        ))}
      </ul>
      <div className="space-y-1.5 text-sm text-ink-2">
        <p>To enable HA, give each director&apos;s agent an HA configuration and restart it:</p>
        <pre className="overflow-x-auto rounded-md bg-panel-2 p-3 font-mono text-xs text-ink">{`director agent ... --director-id lvs1 --ha-config /etc/director/ha.json

{ "director": "lvs1", "zookeeper": "192.168.150.250:2181",
  "groups": [{ "name": "lan", "vips": ["192.168.150.100/32"], "interface": "eth0",
               "heartbeatInterface": "hb0", "virtualRouterId": 51, "priority": 150 }],
  "sync": { "interface": "hb0", "syncId": 51 },
  "peers": [{ "director": "lvs2", "url": "http://192.168.150.3:9580" }] }`}</pre>
        <p>The fields are those of <code>lib/schemas/ha.ts</code> (HaConfig). Every director of a group needs the same VIPs and virtual router id, and a different priority. To try it: <code className="whitespace-nowrap">npm start -- --ha</code> starts a lab with two directors and ZooKeeper.</p>
      </div>
    </Panel>
  );
}
