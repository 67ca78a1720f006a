import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Identity } from '@/lib/auth/identity';
import { createContextInner, type AgentDeps } from '../../api/context';
import { appRouter } from '../../api/router';
import { makeDeps, OPERATOR, VIEWER } from '../../api/testing';
import { createCallerFactory } from '../../api/trpc';
import { labAppRouter } from '../app-router';
import { trafficSchema } from '@/lib/lab/traffic';

// Host-side checks of the lab's pieces that need no lab kernel. Traffic here
// goes to 127.0.0.1 only; lab.status is not called (it probes lab addresses).
const here = import.meta.dirname;
const dirs: string[] = [];
const procs: ChildProcess[] = [];
const saved = { lab: process.env.DIRECTOR_LAB, state: process.env.DIRECTOR_LAB_STATE, mode: process.env.DIRECTOR_LAB_MODE };

afterEach(() => {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  process.env.DIRECTOR_LAB = saved.lab;
  process.env.DIRECTOR_LAB_STATE = saved.state;
  if (saved.lab === undefined) delete process.env.DIRECTOR_LAB;
  if (saved.state === undefined) delete process.env.DIRECTOR_LAB_STATE;
  if (saved.mode === undefined) delete process.env.DIRECTOR_LAB_MODE;
  else process.env.DIRECTOR_LAB_MODE = saved.mode;
});

function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'director-labtest-'));
  dirs.push(d);
  return d;
}

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function poll<T>(fn: () => T | null, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try { const v = fn(); if (v) return v; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const callerFor = (deps: AgentDeps, who: Identity) => createCallerFactory(labAppRouter)(createContextInner(deps, who, 'test'));

describe('lab router', () => {
  it('is mounted only by the lab launcher: the production API has no lab procedure', () => {
    const prod = Object.keys(appRouter._def.procedures);
    const lab = Object.keys(labAppRouter._def.procedures);
    expect(prod.filter((p) => p.startsWith('lab.'))).toEqual([]);
    expect(lab).toEqual(expect.arrayContaining(['lab.status', 'lab.setRate', 'lab.fault', 'lab.ipvsadm']));
    // everything else is the production API, unchanged
    expect(lab.filter((p) => !p.startsWith('lab.')).sort()).toEqual([...prod].sort());
  });


  it('refuses outside the lab kernel', async () => {
    delete process.env.DIRECTOR_LAB;
    const caller = callerFor(await makeDeps(), OPERATOR);
    await expect(caller.lab.status({})).rejects.toMatchObject({ code: 'NOT_IMPLEMENTED' });
    await expect(caller.lab.setRate({ rate: 3 })).rejects.toMatchObject({ code: 'NOT_IMPLEMENTED' });
  });

  it('lets only operators change the rate, within bounds, and writes the control file', async () => {
    process.env.DIRECTOR_LAB = '1';
    process.env.DIRECTOR_LAB_STATE = tmp();
    const deps = await makeDeps();
    await expect(callerFor(deps, VIEWER).lab.setRate({ rate: 3 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(callerFor(deps, OPERATOR).lab.setRate({ rate: 5000 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(callerFor(deps, OPERATOR).lab.fault({ server: 'rs3', fault: 'remove-vip', on: true } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await callerFor(deps, OPERATOR).lab.setRate({ rate: 7 })).toEqual({ rate: 7 });
    expect(JSON.parse(readFileSync(path.join(process.env.DIRECTOR_LAB_STATE, 'traffic-control.json'), 'utf8'))).toEqual({ rate: 7 });
  });

  it('haRepair: operators only, HA mode only, and refuses a fault that is not on without touching anything', async () => {
    process.env.DIRECTOR_LAB = '1';
    const state = tmp();
    process.env.DIRECTOR_LAB_STATE = state;
    const deps = await makeDeps();
    await expect(callerFor(deps, VIEWER).lab.haRepair({ fault: 'cut-heartbeat' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    delete process.env.DIRECTOR_LAB_MODE;
    await expect(callerFor(deps, OPERATOR).lab.haRepair({})).rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: expect.stringMatching(/HA lab/) });
    process.env.DIRECTOR_LAB_MODE = 'ha';
    await expect(callerFor(deps, OPERATOR).lab.haRepair({ fault: 'reboot' as never })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    // the lab remembers stop-zookeeper only: heal-heartbeat would be the wrong repair
    mkdirSync(path.join(state, 'faults'));
    writeFileSync(path.join(state, 'faults', 'stop-zookeeper'), '');
    await expect(callerFor(deps, OPERATOR).lab.haRepair({ fault: 'cut-heartbeat' }))
      .rejects.toMatchObject({ code: 'PRECONDITION_FAILED', message: 'cut-heartbeat is not on (on now: stop-zookeeper)' });
    expect(readdirSync(path.join(state, 'faults'))).toEqual(['stop-zookeeper']);
  });
});

describe('httpd.pl and traffic.mjs', () => {
  it('counts answers per server and follows the control file', async () => {
    const state = tmp();
    const port = await freePort();
    const httpd = spawn('perl', [path.join(here, 'httpd.pl'), '127.0.0.7', String(port)], { stdio: 'ignore' });
    procs.push(httpd);
    writeFileSync(path.join(state, 'services.json'), JSON.stringify([{ id: 'dr', method: 'DR', address: '127.0.0.1', port, realPort: port }]));
    const gen = spawn(process.execPath, [path.join(here, 'traffic.mjs'), '--state', state, '--rate', '20'], { stdio: 'ignore' });
    procs.push(gen);
    const read = () => trafficSchema.parse(JSON.parse(readFileSync(path.join(state, 'traffic.json'), 'utf8')));
    const busy = await poll(() => { const t = read(); return t.services.dr!.ok >= 10 ? t : null; });
    // the body names the server ("from 127.0.0.7"), not the address dialled
    expect(busy.services.dr!.byServer).toEqual({ '127.0.0.7': busy.services.dr!.ok });
    expect(busy.services.dr!.failed).toBe(0);

    writeFileSync(path.join(state, 'traffic-control.json'), JSON.stringify({ rate: 0 }));
    const stopped = await poll(() => { const t = read(); return t.rate === 0 && t.services.dr!.inflight === 0 ? t : null; });
    await new Promise((r) => setTimeout(r, 1500));
    expect(read().services.dr!.sent).toBe(stopped.services.dr!.sent);

    httpd.kill('SIGKILL');
    writeFileSync(path.join(state, 'traffic-control.json'), JSON.stringify({ rate: 20 }));
    const failing = await poll(() => { const t = read(); return t.services.dr!.failed >= 3 ? t : null; });
    expect(failing.services.dr!.lastError).toBe('ECONNREFUSED');
  }, 30_000);
});
