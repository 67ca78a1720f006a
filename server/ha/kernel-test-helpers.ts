/** Helpers for the HA kernel tests (inside the lab kernel only): a real ZooKeeper and small waits. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import net from 'node:net';

export interface RunningZk { proc: ChildProcess; connect: string; stop(): Promise<void> }

/**
 * ZooKeeper 3.8 standalone as the lab runs it (tickTime 500, minSessionTimeout 1000). With `secure`, also TLS on
 * `secure.port` (Netty; `keyStore`: one PEM file with the key and the certificate; `trustStore`: the CA, PEM).
 */
export async function startZookeeper(dir: string, host = '127.0.0.1', port = 2181,
  secure?: { port: number; keyStore: string; trustStore: string }): Promise<RunningZk> {
  mkdirSync(`${dir}/data`, { recursive: true });
  writeFileSync(`${dir}/zoo.cfg`, [
    'tickTime=500', `dataDir=${dir}/data`, `clientPort=${port}`, `clientPortAddress=${host}`,
    'minSessionTimeout=1000', 'maxSessionTimeout=10000', 'admin.enableServer=false', '4lw.commands.whitelist=ruok,srvr',
    ...(secure ? [
      'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory',
      `secureClientPort=${secure.port}`, `secureClientPortAddress=${host}`,
      `ssl.keyStore.location=${secure.keyStore}`, 'ssl.keyStore.type=PEM',
      `ssl.trustStore.location=${secure.trustStore}`, 'ssl.trustStore.type=PEM', 'ssl.clientAuth=none',
    ] : []),
    '',
  ].join('\n'));
  const out = openSync(`${dir}/zk.log`, 'a');
  const proc = spawn('java', ['-Xmx96m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dzookeeper.log.dir=${dir}`,
    // netty-codec: missing from Debian's zookeeper.jar Class-Path, needed by the Netty (TLS) connection factory
    '-cp', '/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar:/usr/share/java/netty-codec.jar',
    'org.apache.zookeeper.server.ZooKeeperServerMain', `${dir}/zoo.cfg`], { stdio: ['ignore', out, out] });
  const t0 = Date.now();
  while (Date.now() - t0 < 60_000) {
    if (await fourLetter(host, port, 'srvr').then((r) => r.includes('Mode'), () => false)) break;
    if (proc.exitCode !== null) throw new Error(`ZooKeeper exited with ${proc.exitCode}`);
    await sleep(200);
  }
  return {
    proc,
    connect: `${host}:${port}`,
    stop: async () => {
      if (proc.exitCode !== null) return;
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

export function fourLetter(host: string, port: number, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    let out = '';
    s.setTimeout(2000, () => s.destroy(new Error('timeout')));
    s.on('connect', () => s.write(cmd));
    s.on('data', (d) => { out += d.toString(); });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `fn` is truthy; returns the milliseconds it took. */
export async function until(fn: () => boolean | Promise<boolean>, timeoutMs: number, what: string, stepMs = 20): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await fn()) return Date.now() - t0;
    await sleep(stepMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
