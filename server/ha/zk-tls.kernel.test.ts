/**
 * TLS to a real ZooKeeper 3.8 in the lab kernel: ZooKeeper serves its
 * secureClientPort (Netty, PEM key store) with a certificate from the
 * project's own PKI, and the agent's session goes through the TLS forwarder,
 * wired as the HA controller wires it (files loaded and checked, digest auth).
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import pino from 'pino';
import { haConfigSchema } from '@/lib/schemas/ha';
import { FakeIpvs } from '../ipvs/fake';
import { HaController } from './controller';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCa, issueAgentCert } from '../pki/pki';
import { startZookeeper, until, type RunningZk } from './kernel-test-helpers';
import { loadZkTls, ZkTlsForwarder } from './zk-tls';
import { isNoAuth, ZkSession } from './zookeeper';

const DIR = '/tmp/ha-zk-tls-test';
const SECURE_PORT = 2281;
const CREDS = { user: 'director', password: 'kernel-test-password-0123' };
const log = pino({ level: 'silent' });
let zk: RunningZk;
const closers: (() => unknown)[] = [];
const sh = (cmd: string) => execFileSync('bash', ['-c', cmd], { encoding: 'utf8' });

beforeAll(async () => {
  await rm(DIR, { recursive: true, force: true });
  await mkdir(DIR, { recursive: true, mode: 0o700 });
  await initCa({ dir: `${DIR}/ca`, name: 'ZooKeeper CA' });
  await initCa({ dir: `${DIR}/other-ca`, name: 'Some other CA' });
  const srv = await issueAgentCert({ caDir: `${DIR}/ca`, name: 'zk1', ips: ['127.0.0.1'], outDir: `${DIR}/zk1` });
  // ZooKeeper's PEM key store: the key and the certificate in one file
  await writeFile(`${DIR}/zk1/keystore.pem`, (await readFile(srv.key, 'utf8')) + (await readFile(srv.cert, 'utf8')), { mode: 0o600 });
  const t0 = Date.now();
  zk = await startZookeeper(DIR, '127.0.0.1', 2181, { port: SECURE_PORT, keyStore: `${DIR}/zk1/keystore.pem`, trustStore: `${DIR}/ca/ca.crt` });
  console.log(`ZooKeeper (TLS on ${SECURE_PORT}) ready after ${Date.now() - t0} ms`);
}, 90_000);
afterAll(async () => {
  for (const c of closers) await c();
  await zk?.stop();
  sh('pkill -KILL keepalived; ip link del htl0 2>/dev/null; true');
});

/** A session through the forwarder, with the CA file `ca` (relative to DIR, as the HA config gives it). */
async function tlsSession(ca: string, auth: typeof CREDS | null = CREDS): Promise<ZkSession> {
  const material = await loadZkTls({ ca }, DIR);
  const s = new ZkSession({ connect: 'unset', sessionTimeoutMs: 2000, log, onChange: () => {}, auth });
  const f = new ZkTlsForwarder({ material, log, onStatus: (e) => s.transportStatus(e) });
  s.setConnect(await f.start(`127.0.0.1:${SECURE_PORT}`));
  closers.push(() => { s.close(); f.close(); });
  s.start();
  return s;
}

describe('ZooKeeper over TLS', () => {
  it('a session with digest auth works through the forwarder: create, get, ACL; an outsider over TLS gets NoAuth', async () => {
    const t0 = Date.now();
    const s = await tlsSession('ca/ca.crt');
    await until(() => s.state === 'connected', 20_000, 'TLS session connected');
    console.log(`TLS session connected after ${Date.now() - t0} ms`);
    await s.mkdirp('/director/groups/lan');
    await s.create('/director/table', Buffer.from('signed-table-bytes'), false);
    expect((await s.get('/director/table'))!.data!.toString()).toBe('signed-table-bytes');
    expect(await s.getAcl('/director/table')).toEqual([{ permission: 31, id: { scheme: 'digest', id: expect.stringMatching(/^director:/) } }]);
    const outsider = await tlsSession('ca/ca.crt', null);
    await until(() => outsider.state === 'connected', 20_000, 'outsider connected');
    expect(isNoAuth(await outsider.set_('/director/table', Buffer.alloc(0), -1).catch((e: unknown) => e))).toBe(true);
    expect((await s.get('/director/table'))!.data!.toString()).toBe('signed-table-bytes');
  });

  it('a server certificate from another CA: no session, and the status says which server and why', async () => {
    const s = await tlsSession('other-ca/ca.crt');
    await until(() => s.message !== null, 10_000, 'a message');
    await new Promise((r) => setTimeout(r, 3000));
    expect(s.state).toBe('connecting');
    console.log(`wrong CA: ${s.message}`);
    expect(s.message).toMatch(new RegExp(`^ZooKeeper 127\\.0\\.0\\.1:${SECURE_PORT}: certificate verify failed: `));
  });

  it('the plain client cannot use the secure port (ZooKeeper there speaks TLS only)', async () => {
    const s = new ZkSession({ connect: `127.0.0.1:${SECURE_PORT}`, sessionTimeoutMs: 2000, log, onChange: () => {}, auth: CREDS });
    closers.push(() => s.close());
    s.start();
    await new Promise((r) => setTimeout(r, 4000));
    expect(s.state).not.toBe('connected');
  });
});

describe('the HA controller with `tls` in its config', () => {
  // keepalived is not what this is about: a missing binary leaves the controller running with a keepalived error
  const config = (ca: string, runDir: string) => haConfigSchema.parse({
    director: 'lvs1', zookeeper: `127.0.0.1:${SECURE_PORT}`, sessionTimeoutMs: 4000, runDir, keepalivedPath: `${DIR}/no-keepalived`,
    groups: [{ name: 'lan', vips: ['10.79.0.100/32'], interface: 'htl0', virtualRouterId: 53, priority: 150 }],
    tls: { ca, cert: 'client/agent.crt', key: 'client/agent.key' },
  });

  beforeAll(async () => {
    sh('ip link add htl0 type veth peer name htl1 2>/dev/null; ip link set htl0 up; true');
    await writeFile(`${DIR}/zk-credentials`, `${CREDS.user}:${CREDS.password}\n`, { mode: 0o600 });
    await writeFile(`${DIR}/ha-table.key`, `${'k'.repeat(40)}\n`, { mode: 0o600 });
    await issueAgentCert({ caDir: `${DIR}/ca`, name: 'lvs1', ips: ['127.0.0.1'], outDir: `${DIR}/client` });
  });

  async function controller(ca: string, name: string): Promise<HaController> {
    const ctl = new HaController({ config: config(ca, `${DIR}/${name}`), backend: new FakeIpvs(), log, runDir: `${DIR}/${name}`, stateDir: DIR, fetchPeer: async () => null });
    closers.push(() => ctl.stop());
    return ctl;
  }

  it('connects through TLS and reports connected; with the wrong CA its status says why', async () => {
    const good = await controller('ca/ca.crt', 'good');
    await good.start();
    await until(() => good.status().zookeeper.state === 'connected', 20_000, 'controller connected over TLS');
    await good.stop();
    const bad = await controller('other-ca/ca.crt', 'bad');
    await bad.start();
    await until(() => bad.status().zookeeper.message !== null, 20_000, 'a ZooKeeper message');
    const st = bad.status().zookeeper;
    console.log(`controller status with the wrong CA: ${JSON.stringify(st)}`);
    expect(st.state).not.toBe('connected');
    expect(st.message).toMatch(new RegExp(`^ZooKeeper 127\\.0\\.0\\.1:${SECURE_PORT}: certificate verify failed: `));
    await bad.stop();
  });

  it('refuses to start when the client key is readable by others, naming the file', async () => {
    await chmod(`${DIR}/client/agent.key`, 0o640);
    const ctl = await controller('ca/ca.crt', 'mode');
    await expect(ctl.start()).rejects.toThrow(`ZooKeeper TLS key ${DIR}/client/agent.key has mode 0640`);
    await chmod(`${DIR}/client/agent.key`, 0o600);
  });
});
