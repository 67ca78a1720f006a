/** keepalived.conf through snapshot.plan/restore/export, on the fake kernel with the real parser, planner and health service. */
import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { HealthService } from '../health/service';
import { callerFor, makeDeps, OPERATOR, silentLog, VIEWER } from './testing';

const CONF = `vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    virtual_ipaddress {
        192.0.2.10/24
    }
}
virtual_server 192.0.2.10 80 {
    delay_loop 6
    lb_algo wlc
    lb_kind DR
    protocol TCP
    real_server 10.0.0.1 80 {
        weight 2
        HTTP_GET {
            url {
              path /health
              status_code 200
            }
            connect_timeout 3
        }
    }
    real_server 10.0.0.2 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
`;
const SVC = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.0.2.10', port: 80 } as const;

async function setup() {
  const deps = await makeDeps();
  const health = await HealthService.open({ backend: deps.fake, writeLock: deps.writeLock, journal: deps.journal, log: silentLog, stateDir: null, reloadMs: 0, runCheck: async () => ({ ok: true, message: 'HTTP 200', durationMs: 1 }) });
  return { deps: { ...deps, health }, health };
}

describe('keepalived.conf in the API', () => {
  it('plans the table, the checks and a VRRP preview without writing anything', async () => {
    const { deps } = await setup();
    const plan = await callerFor(deps, VIEWER).snapshot.plan({ format: 'keepalived', text: CONF });
    expect(plan.steps).toHaveLength(3);
    expect(plan.keepalived?.checks).toEqual(['TCP 192.0.2.10:80: checks on 2 real servers']);
    expect(plan.keepalived?.vrrp[0]).toMatchObject({ instance: 'VI_1', group: { vips: ['192.0.2.10/24'], virtualRouterId: 51, priority: 150 }, issues: [] });
    expect(await deps.fake.listServices()).toEqual([]);
    expect(deps.health.getConfig()).toEqual([]);
  });

  it('restores the table and the checks as one import; export gives them back as keepalived.conf', async () => {
    const { deps } = await setup();
    const op = callerFor(deps, OPERATOR);
    const r = await op.snapshot.restore({ format: 'keepalived', text: CONF });
    expect(r).toMatchObject({ applied: 3, checks: 1 });
    const ds = await deps.fake.listDestinations(SVC);
    expect(ds.map((d) => [d.address, d.forward, d.weight]).sort()).toEqual([['10.0.0.1', 'dr', 2], ['10.0.0.2', 'dr', 1]]);
    const [cfg] = deps.health.getConfig(SVC);
    expect(cfg!.realServers.map((x) => x.checks[0]!.type)).toEqual(['http', 'tcp']);
    const out = (await op.snapshot.export({ format: 'keepalived' })).text;
    expect(out).toMatch(/virtual_server 192\.0\.2\.10 80 \{/);
    expect(out).toMatch(/HTTP_GET/);
    expect(out).toMatch(/path \/health/);
    deps.health.stop();
  });

  it('a file with an error names its line and changes neither the table nor the checks', async () => {
    const { deps } = await setup();
    const bad = CONF.replace('weight 1', 'weight lots');
    const e = await callerFor(deps, OPERATOR).snapshot.restore({ format: 'keepalived', text: bad }).then(() => null, (x: unknown) => x as TRPCError);
    expect(e?.code).toBe('BAD_REQUEST');
    const issues = (e?.cause as unknown as { issues: { path: string[]; message: string }[] }).issues;
    expect(issues[0]!.path).toEqual(['text']);
    expect(issues[0]!.message).toMatch(/^line 26: weight: /);
    expect(await deps.fake.listServices()).toEqual([]);
    expect(deps.health.getConfig()).toEqual([]);
  });

  it('refuses includes: an upload is one file and the agent reads nothing else from disk', async () => {
    const { deps } = await setup();
    const e = await callerFor(deps, VIEWER).snapshot.plan({ format: 'keepalived', text: 'include /etc/shadow\n' }).then(() => null, (x: unknown) => x as TRPCError);
    expect(e?.code).toBe('BAD_REQUEST');
    const issues = (e?.cause as unknown as { issues: { message: string }[] }).issues;
    expect(issues[0]!.message).toMatch(/line 1: include \/etc\/shadow: includes cannot be read here/);
  });
});
