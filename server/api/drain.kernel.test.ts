/**
 * A drain of a persistent service in the lab kernel: the persistence
 * template pointing at the drained real server, and its time left, as the
 * agent reports them, against the kernel's own `ipvsadm -Lcn`; then Restore.
 *
 *   kd0 (bridge, director: DIP 192.168.170.1/24, VIP 192.168.170.100/32)
 *     ├─ kdc  client 192.168.170.200
 *     └─ kdr  real server 192.168.170.12, HTTP on :80, replies through the DIP (policy routing)
 *   NAT VIP:8080 -> kdr:80, persistent 40 s
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrainProgress } from '@/lib/agent/events';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { dst, ipvsadm, persistent, svc, tcp } from '../ipvs/kernel-test-helpers';
import { openIpvs } from '../ipvs/open';
import { BridgeLab, HTTP_OK_SERVER } from '../ipvs/bridge-lab';
import { procConnSource } from '../live/conn-source';
import { procIpvsFile } from '../live/sampler';
import { TableHub } from '../live/hub';
import { Journal } from '../table/journal';
import { Mutex } from '../table/mutex';
import type { AgentDeps } from './context';
import { callerFor, OPERATOR, VIEWER } from './testing';

const run = promisify(execFile);
const log = pino({ level: 'warn' }, pino.destination(2));
const VIP = '192.168.170.100';
const RS = '192.168.170.12';
const NAT = tcp(VIP, 8080);
const PERSIST = 40;

const LAN = new BridgeLab({ bridge: 'kd0', net: '192.168.170', vip: VIP, hosts: { kdc: '192.168.170.200', kdr: RS } });

let backend: IpvsBackend;
let hub: TableHub;
let deps: AgentDeps;

/** Seconds left of the kernel's template for the VIP's persistent service, from `ipvsadm -Lcn` (mm:ss). */
function kernelTemplateLeft(): number | null {
  // a template's client port is 0 (its state column reads NONE or, on newer kernels, ASSURED)
  const line = ipvsadm('-Lcn').split('\n').find((l) => /\s192\.168\.170\.200:0\s/.test(l) && l.includes(`${VIP}:8080`) && l.includes(`${RS}:80`));
  const m = line && /^\S+\s+(\d+):(\d+)/.exec(line.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

beforeAll(async () => {
  LAN.up(LAN.natReplies('kdr', 170));
  backend = await openIpvs();
  await backend.flush();
  await backend.addService(svc(NAT, { scheduler: 'rr', flags: persistent, timeout: PERSIST }));
  await backend.addDestination(NAT, dst(RS, 80, { forward: 'nat', weight: 3 }));
  hub = new TableHub({ backend, log, tickMs: 500, structure: procIpvsFile() });
  hub.start();
  deps = { backend, hub, journal: await Journal.open(null), writeLock: new Mutex(), log, conns: procConnSource({ pageMaxAgeMs: 200 }), version: 'kernel-test', startedAt: Date.now() };
  await LAN.spawnNode('kdr', HTTP_OK_SERVER);
});

afterAll(async () => {
  hub?.close();
  await backend?.flush().catch(() => undefined);
  backend?.close();
  LAN.down();
});

describe('a drain of a persistent service', () => {
  it('follows the persistence template pointing at the drained server, its countdown within 2 s of the kernel\'s; Restore puts the weight back', async () => {
    const ok = await run('ip', ['netns', 'exec', 'kdc', 'bash', '-c', `n=0; for i in 1 2 3; do curl -sf --max-time 10 http://${VIP}:8080/ >/dev/null && n=$((n+1)); done; echo $n`], { timeout: 60_000 });
    expect(ok.stdout.trim()).toBe('3');
    const op = callerFor(deps, OPERATOR);
    const drained = await op.destinations.drain({ service: NAT, destination: { family: 'inet', address: RS, port: 80 } });
    expect(drained.destination.weight).toBe(0);

    const ac = new AbortController();
    const seen: DrainProgress[] = [];
    const started = Date.now();
    const it = await callerFor(deps, VIEWER, ac.signal).destinations.onDrain({ service: NAT, destination: { family: 'inet', address: RS, port: 80 } });
    let kernelAtFirst: number | null = null;
    let kernelAtLast: number | null = null;
    for await (const ev of it) {
      const p = (ev as unknown as [string, DrainProgress])[1]; // tracked() envelopes
      seen.push(p);
      if (seen.length === 1) kernelAtFirst = kernelTemplateLeft();
      // two readings at least 4 s apart (a loaded lab kernel may take seconds per reading)
      if ((seen.length >= 2 && p.at - seen[0]!.at >= 4000) || Date.now() - started > 40_000) { kernelAtLast = kernelTemplateLeft(); break; }
    }
    ac.abort();
    const first = seen[0]!, last = seen.at(-1)!;
    // the template and the finished connections still point at the server: not done
    expect(first.remains).not.toBeNull();
    expect(first.remains!.templates).toBe(1);
    expect(first.persistent).toBe(1);
    expect(first.done).toBe(false);
    expect(first.restoreWeight).toBe(3);
    expect(first.remains!.templatesLeft!).toBeGreaterThan(PERSIST - 15);
    expect(first.remains!.templatesLeft!).toBeLessThanOrEqual(PERSIST);
    // the agent's countdown is the kernel's, within 2 s, at both ends
    expect(kernelAtFirst, ipvsadm('-Lcn')).not.toBeNull();
    expect(Math.abs(first.remains!.templatesLeft! - kernelAtFirst!)).toBeLessThanOrEqual(2);
    expect(Math.abs(last.remains!.templatesLeft! - kernelAtLast!)).toBeLessThanOrEqual(2);
    // and it counts down with the clock
    const elapsed = (last.at - first.at) / 1000;
    const why = JSON.stringify({ agent: seen.map((x) => [x.at - started, x.remains?.templatesLeft, x.remains?.connectionsLeft]), kernelAtFirst, kernelAtLast });
    expect(elapsed, why).toBeGreaterThanOrEqual(4);
    expect(Math.abs(first.remains!.templatesLeft! - last.remains!.templatesLeft! - elapsed), why).toBeLessThanOrEqual(2);
    expect(last.remains!.emptyIn!).toBeGreaterThanOrEqual(last.remains!.templatesLeft!);
    console.log(`drain: template ${first.remains!.templatesLeft} s left at the start (kernel ${kernelAtFirst}), ${last.remains!.templatesLeft} s after ${((Date.now() - started) / 1000).toFixed(1)} s (kernel ${kernelAtLast}); empty in ${last.remains!.emptyIn} s`);

    const restored = await op.destinations.restore({ service: NAT, destination: { family: 'inet', address: RS, port: 80 } });
    expect(restored.destination.weight).toBe(3);
    expect(ipvsadm('-Ln')).toMatch(new RegExp(`-> ${RS.replace(/\./g, '\\.')}:80\\s+Masq\\s+3\\s`));
  }, 90_000);
});
