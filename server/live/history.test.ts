import { mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StatSample, StatsState } from '@/lib/agent/events';
import { MINUTE_MS } from '@/lib/history/rings';
import { readService } from '@/lib/history/read';
import { HISTORY_FILE, HistoryService } from './history';

const T0 = 1_700_000_000_000 - (1_700_000_000_000 % MINUTE_MS);
const SID = 'tcp:10.0.0.1:80';

function rates(cps: number): StatSample {
  const zero = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, kCps: 0, kInPps: 0, kOutPps: 0, kInBps: 0, kOutBps: 0, active: 0, inactive: 0, persistent: 0 };
  return { ...zero, rCps: cps, rInPps: cps * 3, rOutPps: cps * 2, rInBps: cps * 300, rOutBps: cps * 2000 };
}

function state(cps: number): StatsState {
  return new Map([[SID, { v: rates(cps), dests: new Map([['10.1.0.1:80', rates(cps / 2)], ['10.1.0.2:80', rates(cps / 2)]]) }]]);
}

function logged() {
  const lines: { level: number; msg: string; file?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
  return { log, lines };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'history-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('HistoryService', () => {
  it('writes the state folder at most once a minute, 0600, and a new agent reads the minutes back', async () => {
    let now = T0;
    const { log } = logged();
    const h = await HistoryService.open({ stateDir: dir, log, now: () => now });
    const file = path.join(dir, HISTORY_FILE);
    // 59 seconds of ticks: no write yet
    for (let s = 1; s < 60; s++) h.record({ at: (now = T0 + s * 1000), intervalMs: 1000, state: state(10), complete: true });
    await new Promise((r) => setTimeout(r, 20));
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    // three minutes at 10, 20, 30 new connections a second
    for (let s = 60; s <= 181; s++) h.record({ at: (now = T0 + s * 1000), intervalMs: 1000, state: state(10 * Math.ceil(s / 60)), complete: true });
    await h.save(now);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = await HistoryService.open({ stateDir: dir, log, now: () => now });
    const r = readService(again.store, SID, '24h', now);
    expect(r.service!.cps.map((v) => Math.round(v!))).toEqual([10, 20, 30]);
    expect(r.dests.map((d) => d.id).sort()).toEqual(['10.1.0.1:80', '10.1.0.2:80']);
    // 16-bit codes: within 0.05 %
    expect(r.service!.outBps.map((v) => Math.round(v! / 100) * 100)).toEqual([20000, 40000, 60000]);
    // the 15-minute view of a restarted agent starts with those minutes too
    expect(readService(again.store, SID, '15m', now).at).toHaveLength(3);
  });

  it('refuses a hostile file with a log line saying why, starts empty, and replaces it at the next write', async () => {
    const file = path.join(dir, HISTORY_FILE);
    await writeFile(file, Buffer.concat([Buffer.from('DIRHIST\n'), Buffer.alloc(400, 0xff)]));
    const { log, lines } = logged();
    const h = await HistoryService.open({ stateDir: dir, log, now: () => T0 });
    expect(h.store.services.size).toBe(0);
    expect(lines.find((l) => l.level === 40)?.msg).toMatch(/history file refused \(format version 65535.*starting with an empty history/);
    h.record({ at: T0 + 1000, intervalMs: 1000, state: state(1), complete: true });
    await h.save(T0 + 2000);
    expect((await readFile(file)).subarray(0, 8).toString()).toBe('DIRHIST\n');
  });

  it('refuses a file that is not a regular file', async () => {
    await symlink('/etc/passwd', path.join(dir, HISTORY_FILE));
    const { log, lines } = logged();
    const h = await HistoryService.open({ stateDir: dir, log });
    expect(h.store.services.size).toBe(0);
    expect(lines.some((l) => /history file refused \(not a regular file\)/.test(l.msg))).toBe(true);
  });

  it('refuses a file too large for its limits without reading it', async () => {
    const { log, lines } = logged();
    const small = { stateDir: dir, log, maxBytes: 100_000 };
    await writeFile(path.join(dir, HISTORY_FILE), Buffer.alloc(200_000));
    const h = await HistoryService.open(small);
    expect(h.store.services.size).toBe(0);
    expect(lines.some((l) => /history file refused \(200000 bytes, more than/.test(l.msg))).toBe(true);
  });

  it('says once, in the log, when its memory bound leaves objects without history', async () => {
    const { log, lines } = logged();
    // room for the axes and about two series
    const h = await HistoryService.open({ stateDir: null, log, maxBytes: 16 * 900 + 8 * 1440 + 2 * 24_000 });
    for (let s = 1; s <= 3; s++) h.record({ at: T0 + s * 1000, intervalMs: 1000, state: state(10), complete: true });
    expect(h.store.storedSeries).toBe(2);
    expect(h.store.bytes()).toBeLessThanOrEqual(h.store.maxBytes);
    expect(lines.filter((l) => /history is full/.test(l.msg))).toHaveLength(1);
  });
});
