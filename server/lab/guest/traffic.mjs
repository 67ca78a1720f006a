// Steady HTTP load from the lab's client namespace to every virtual service,
// one new TCP connection per request (so the scheduler decides every time).
//
//   node traffic.mjs [--state DIR] [--rate N] [--timeout-ms N]
//
// Reads DIR/services.json (written by topology.sh). A service with `name` and
// `resolver` (the master-master HA lab) is reached by name: each request
// resolves it at that DNS server first and goes to one of the addresses
// (in turn), as a client with no DNS cache would. The rate (requests per
// second per service) follows DIR/traffic-control.json {"rate": N}, re-read
// whenever it changes. Counters go to DIR/traffic.json about once a second
// (written atomically) for the agent's lab.status.
import { Resolver } from 'node:dns/promises';
import http from 'node:http';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    state: { type: 'string', default: process.env.DIRECTOR_LAB_STATE ?? '/run/director-lab' },
    rate: { type: 'string', default: '2' },
    'timeout-ms': { type: 'string' },
  },
});
const stateDir = values.state;
const controlFile = path.join(stateDir, 'traffic-control.json');
const outFile = path.join(stateDir, 'traffic.json');
const MAX_RATE = 200; // topology.ts MAX_RATE
// A connection whose SYNs go unanswered keeps retrying (1, 3, 7, 15 s...) for
// this long, so a repaired real server completes the waiting connections.
// The HA lab uses a shorter one: a request a failover leaves hanging counts as failed.
const REQUEST_TIMEOUT_MS = values['timeout-ms'] ? Number(values['timeout-ms']) : 30_000;
const MAX_INFLIGHT = 400;
const WINDOW_S = 5;

const services = JSON.parse(readFileSync(path.join(stateDir, 'services.json'), 'utf8'));
let rate = clampRate(Number(values.rate));

function clampRate(n) {
  return Number.isFinite(n) ? Math.min(MAX_RATE, Math.max(0, n)) : 0;
}

const resolvers = new Map(services.filter((s) => s.name && s.resolver).map((s) => {
  const r = new Resolver({ timeout: 1000, tries: 2 });
  r.setServers([s.resolver]);
  return [s.id, r];
}));

const counters = new Map(services.map((s) => [s.id, {
  sent: 0, ok: 0, failed: 0, skipped: 0, inflight: 0, byServer: {}, lastError: null, lastErrorAt: null,
  byAddress: {}, lastAnswer: null, lastAnswerAt: null, turn: 0,
  // per-second buckets for the recent rates: [second, ok, failed]
  window: [],
}]));

function bucket(c) {
  const sec = Math.floor(Date.now() / 1000);
  let b = c.window.at(-1);
  if (!b || b[0] !== sec) {
    b = [sec, 0, 0];
    c.window.push(b);
    while (c.window.length > WINDOW_S + 1) c.window.shift();
  }
  return b;
}

function fire(svc) {
  const c = counters.get(svc.id);
  if (c.inflight >= MAX_INFLIGHT) { c.skipped++; return; }
  c.sent++;
  c.inflight++;
  let done = false;
  let address = svc.address;
  const finish = (ok, server, err) => {
    if (done) return;
    done = true;
    c.inflight--;
    if (resolvers.has(svc.id)) {
      const a = (c.byAddress[address] ??= { ok: 0, failed: 0 });
      if (ok) a.ok++;
      else a.failed++;
    }
    if (ok) {
      c.ok++;
      bucket(c)[1]++;
      if (server) c.byServer[server] = (c.byServer[server] ?? 0) + 1;
    } else {
      c.failed++;
      bucket(c)[2]++;
      c.lastError = err;
      c.lastErrorAt = Date.now();
    }
  };
  const resolver = resolvers.get(svc.id);
  if (!resolver) return send();
  resolver.resolve4(svc.name).then((answer) => {
    c.lastAnswer = [...answer].sort();
    c.lastAnswerAt = Date.now();
    if (answer.length === 0) return finish(false, null, `resolving ${svc.name}: no address`);
    // in turn over the addresses in a fixed order: the server rotates its answer, which would cancel out the turn
    address = c.lastAnswer[c.turn++ % answer.length];
    send();
  }, (e) => {
    // NXDOMAIN (no group up): the name offers nothing to go to
    address = `dns:${e.code ?? 'error'}`;
    if (e.code === 'ENOTFOUND' || e.code === 'ENODATA') { c.lastAnswer = []; c.lastAnswerAt = Date.now(); }
    finish(false, null, `resolving ${svc.name}: ${e.code ?? e.message}`);
  });

  function send() {
    const req = http.get({ host: address, port: svc.port, path: '/', agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        const m = /^from (\S+)/.exec(body);
        if (res.statusCode === 200 && m) finish(true, m[1]);
        else finish(false, null, `HTTP ${res.statusCode}: ${body.slice(0, 80)}`);
      });
      res.on('error', (e) => finish(false, null, e.code ?? e.message));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => finish(false, null, e.code ?? e.message));
  }
}

// One timer per service, re-armed when the rate changes.
const timers = new Map();
function arm() {
  for (const t of timers.values()) clearInterval(t);
  timers.clear();
  if (rate <= 0) return;
  const every = 1000 / rate;
  services.forEach((svc, i) => {
    // stagger services so their connections do not all start together
    setTimeout(() => {
      if (rate <= 0) return;
      fire(svc);
      timers.set(svc.id, setInterval(() => fire(svc), every));
    }, (every * i) / services.length);
  });
}

let controlMtime = 0;
function readControl() {
  let st;
  try { st = statSync(controlFile); } catch { return; }
  if (st.mtimeMs === controlMtime) return;
  controlMtime = st.mtimeMs;
  try {
    const next = clampRate(Number(JSON.parse(readFileSync(controlFile, 'utf8')).rate));
    if (next !== rate) { rate = next; arm(); }
  } catch (e) {
    process.stderr.write(`traffic: ignoring ${controlFile}: ${e.message}\n`);
  }
}

function publish() {
  const now = Math.floor(Date.now() / 1000);
  const out = { at: Date.now(), pid: process.pid, rate, services: {} };
  for (const svc of services) {
    const c = counters.get(svc.id);
    // complete seconds only: the current one is still filling
    const recent = c.window.filter(([s]) => s < now && s >= now - WINDOW_S);
    const sum = (i) => recent.reduce((a, b) => a + b[i], 0);
    out.services[svc.id] = {
      method: svc.method, address: svc.address, port: svc.port,
      sent: c.sent, ok: c.ok, failed: c.failed, skipped: c.skipped, inflight: c.inflight,
      byServer: c.byServer, lastError: c.lastError, lastErrorAt: c.lastErrorAt,
      ...(resolvers.has(svc.id) ? { byAddress: c.byAddress, lastAnswer: c.lastAnswer ?? [], lastAnswerAt: c.lastAnswerAt } : {}),
      okPerSec: sum(1) / WINDOW_S, failedPerSec: sum(2) / WINDOW_S,
    };
  }
  const tmp = `${outFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(out));
  renameSync(tmp, outFile);
}

readControl();
arm();
setInterval(readControl, 500);
setInterval(publish, 1000);
publish();
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
