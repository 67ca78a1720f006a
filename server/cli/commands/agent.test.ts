import { describe, expect, it } from 'vitest';
import agent, { parseListen } from './agent';

function io() {
  const out: string[] = [], err: string[] = [];
  return { out, err, io: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s), readStdin: async () => '' } };
}

describe('director agent arguments', () => {
  it('parses ADDR:PORT, with IPv6 in brackets', () => {
    expect(parseListen('127.0.0.1:9580')).toEqual({ host: '127.0.0.1', port: 9580 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListen('::1:80')).toThrow(/ADDR:PORT/);
    expect(() => parseListen('127.0.0.1:70000')).toThrow(/ADDR:PORT/);
  });

  it('refuses a non-loopback address without TLS before touching the kernel', async () => {
    const t = io();
    expect(await agent(['--listen', '0.0.0.0:9580'], t.io)).toBe(2);
    expect(t.err.join('')).toMatch(/without TLS.*--insecure-listen/s);
  });

  it('names the bad option', async () => {
    let t = io();
    expect(await agent(['--tick-ms', '5'], t.io)).toBe(2);
    expect(t.err.join('')).toContain('--tick-ms');
    t = io();
    expect(await agent(['--allow-origin', 'not a url'], t.io)).toBe(2);
    expect(t.err.join('')).toContain('--allow-origin');
    t = io();
    expect(await agent(['--listen', '127.0.0.1:1', '--socket', '/tmp/x'], t.io)).toBe(2);
    t = io();
    expect(await agent(['--bogus'], t.io)).toBe(2);
    expect(t.err.join('')).toContain('--bogus');
  });
});
