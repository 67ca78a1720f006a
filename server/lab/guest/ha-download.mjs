// Long downloads through the VIP, one after another, from the lab's client
// namespace (HA mode): each one TCP connection kept open for SECONDS while a
// failover may happen; with connection sync it survives, without it stalls.
//   node ha-download.mjs --state DIR --url http://VIP:8090/?s=20 [--stall-ms 5000]
// Writes DIR/downloads.json about twice a second (atomically):
//   { at, completed, broken, current: {id, startedAt, bytes, expected, lastByteAt, localPort} | null,
//     recent: [{id, startedAt, endedAt, bytes, expected, ok, error, maxGapMs}] }
import http from 'node:http';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    state: { type: 'string', default: process.env.DIRECTOR_LAB_STATE ?? '/run/director-lab' },
    url: { type: 'string' },
    'stall-ms': { type: 'string', default: '5000' },
  },
});
if (!values.url) {
  process.stderr.write('usage: node ha-download.mjs --state DIR --url URL [--stall-ms N]\n');
  process.exit(2);
}
const outFile = path.join(values.state, 'downloads.json');
const stallMs = Number(values['stall-ms']);
const s = { completed: 0, broken: 0, current: null, recent: [] };
let nextId = 1;

function finish(d, ok, error) {
  if (d.done) return;
  d.done = true;
  if (ok) s.completed++;
  else s.broken++;
  s.current = null;
  s.recent.unshift({ id: d.id, startedAt: d.startedAt, endedAt: Date.now(), bytes: d.bytes, expected: d.expected, ok, error, maxGapMs: d.maxGapMs });
  s.recent.length = Math.min(s.recent.length, 20);
  setTimeout(start, ok ? 200 : 1000);
}

function start() {
  const d = { id: nextId++, startedAt: Date.now(), bytes: 0, expected: null, lastByteAt: Date.now(), maxGapMs: 0, done: false, localPort: null };
  s.current = d;
  const req = http.get(values.url, { agent: false }, (res) => {
    d.expected = Number(res.headers['content-length'] ?? NaN);
    res.on('data', (b) => {
      const now = Date.now();
      d.maxGapMs = Math.max(d.maxGapMs, now - d.lastByteAt);
      d.lastByteAt = now;
      d.bytes += b.length;
    });
    res.on('end', () => finish(d, res.statusCode === 200 && d.bytes === d.expected, d.bytes === d.expected ? null : `ended after ${d.bytes} of ${d.expected} bytes`));
    res.on('error', (e) => finish(d, false, e.code ?? e.message));
  });
  req.on('error', (e) => finish(d, false, e.code ?? e.message));
  // the client port names this download's entry in the directors' connection tables
  req.on('socket', (sock) => sock.once('connect', () => { d.localPort = sock.localPort ?? null; }));
  // a connection the new director does not know stalls rather than fails: call that broken
  const watch = setInterval(() => {
    if (d.done) { clearInterval(watch); return; }
    if (Date.now() - d.lastByteAt > stallMs) {
      clearInterval(watch);
      finish(d, false, `stalled: no data for ${stallMs} ms after ${d.bytes} bytes`);
      req.destroy();
    }
  }, 250);
}

function publish() {
  const c = s.current;
  const out = {
    at: Date.now(), completed: s.completed, broken: s.broken,
    current: c ? { id: c.id, startedAt: c.startedAt, bytes: c.bytes, expected: c.expected, lastByteAt: c.lastByteAt, localPort: c.localPort } : null,
    recent: s.recent,
  };
  const tmp = `${outFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(out));
  renameSync(tmp, outFile);
}

start();
setInterval(publish, 500);
publish();
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
