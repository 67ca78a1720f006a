/**
 * A quick probe of the (a2) row without the whole agent section: one agent from the sources, a
 * SERVICES × DESTS table, then rounds that alternate `ipvsadm -Ln --stats --exact`, services.list and
 * services.listCompact (decoded), all over tRPC HTTP, and split the compact call into its parts.
 * Run inside the lab kernel:
 *
 *   npx tsx server/lab/cli.ts run --mem 2048 -- node --expose-gc --import tsx bench/lab/list-probe.ts [services] [dests] [rounds]
 *
 * With --expose-gc each timed call starts after a full collection, so that no call pays for the garbage
 * of the one before (the plain list leaves 18 MB of it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createTRPCClient, httpLink } from '@trpc/client';
import { decodeCompactTable } from '../../lib/agent/table-compact';
import type { AppRouter } from '../../server/api/router';

const [N = 10000, D = 4, ROUNDS = 4] = process.argv.slice(2).map(Number);
const ROOT = path.resolve(import.meta.dirname, '../..');
const WORK = '/tmp/list-probe';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sh = (cmd: string) => {
  const r = spawnSync('bash', ['-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd}: exit ${r.status}`);
};
const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
const timedSh = (cmd: string) => {
  const t = performance.now();
  sh(cmd);
  return performance.now() - t;
};

mkdirSync(WORK, { recursive: true });
const lines: string[] = [];
for (let i = 0; i < N; i++) {
  const vip = `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  lines.push(`-A -t ${vip}:80 -s rr`);
  for (let d = 0; d < D; d++) lines.push(`-a -t ${vip}:80 -r 172.31.${d}.${(i % 250) + 1}:80 -g -w 1`);
}
writeFileSync(`${WORK}/table.txt`, `${lines.join('\n')}\n`);
sh('ipvsadm -C');

const child = spawn('node', ['--import', 'tsx', `${ROOT}/server/cli/main.ts`, 'agent', '--listen', '127.0.0.1:9581', '--state-dir', `${WORK}/state`,
  '--allow-origin', 'http://bench.invalid', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
let err = '';
child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
try {
  for (const deadline = Date.now() + 300_000; !/listening on/.test(err);) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`agent did not start: ${err.slice(0, 1000)}`);
    await sleep(200);
  }
  const url = 'http://127.0.0.1:9581';
  const token = readFileSync(`${WORK}/state/tokens/viewer.token`, 'utf8').trim();
  const http = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers: { authorization: `Bearer ${token}` } })] });
  sh(`ipvsadm -R < ${WORK}/table.txt`);
  await sleep(3000);
  if ((await http.services.list.query({ maxAgeMs: 0 })).length !== N) throw new Error('the agent does not see the table');
  const bytes = { plain: 0, compact: 0 };
  const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  for (let r = 1; r <= ROUNDS; r++) {
    const ipvsadm = timedSh('ipvsadm -Ln --stats --exact > /dev/null');
    collect();
    let t = performance.now();
    const compactLength = decodeCompactTable(await http.services.listCompact.query()).length;
    const compactMs = performance.now() - t;
    collect();
    // the compact call in parts, the way a tRPC client makes it: until the headers, the body, the parse, the decode
    const t0 = performance.now();
    const res = await fetch(`${url}/trpc/services.listCompact`, { headers: { authorization: `Bearer ${token}` } });
    const t1 = performance.now();
    const text = await res.text();
    const t2 = performance.now();
    const body = JSON.parse(text) as { result: { data: unknown } };
    const t3 = performance.now();
    decodeCompactTable(body.result.data);
    const t4 = performance.now();
    bytes.compact = text.length;
    collect();
    t = performance.now();
    const list = await http.services.list.query();
    const plain = performance.now() - t;
    if (list.length !== N || compactLength !== N) throw new Error('short table');
    if (r === 1) bytes.plain = JSON.stringify(list).length;
    console.log(`round ${r}: ipvsadm ${f(ipvsadm)} | list ${f(plain)} (${(plain / ipvsadm).toFixed(2)}×) | listCompact+decode ${f(compactMs)} (${(compactMs / ipvsadm).toFixed(3)}×)`
      + ` | parts: headers ${f(t1 - t0)}, body ${f(t2 - t1)}, parse ${f(t3 - t2)}, decode ${f(t4 - t3)}`);
  }
  console.log(`reply: list ${(bytes.plain / 1e6).toFixed(1)} MB, listCompact ${(bytes.compact / 1e6).toFixed(2)} MB`);
} finally {
  child.kill('SIGTERM');
  sh('ipvsadm -C');
}
