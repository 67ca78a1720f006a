/**
 * A small LAN inside the lab kernel for kernel tests that need real traffic: a bridge on the
 * director (its address .1 and the VIP), and one network namespace per client or real server,
 * each with a veth on the bridge. Kernel tests only (it runs `ip` as root in the lab kernel).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { sh } from './kernel-test-helpers';

export interface BridgeLabSpec {
  /** the bridge's name (unique per test file: files share one kernel) */
  readonly bridge: string;
  /** the /24's first three octets, e.g. '192.168.160' */
  readonly net: string;
  readonly vip: string;
  /** namespace name → its address on the LAN */
  readonly hosts: Readonly<Record<string, string>>;
}

/** An HTTP server that answers every request and closes; prints 'ready' once listening. */
export const HTTP_OK_SERVER = `require('http').createServer((q, r) => { r.setHeader('connection', 'close'); r.end('ok\\n'); })
  .listen(80, '0.0.0.0', () => console.log('ready'));`;

export class BridgeLab {
  private readonly children: ChildProcess[] = [];

  constructor(readonly spec: BridgeLabSpec) {}

  /** Removes what an earlier run left, builds the LAN, then runs `extra` (the file's own routes and settings). */
  up(extra = ''): void {
    this.down();
    const { bridge, net, vip, hosts } = this.spec;
    const names = Object.keys(hosts).join(' ');
    sh(`
set -e
echo 1 >/proc/sys/net/ipv4/ip_forward
echo 0 >/proc/sys/net/ipv4/conf/all/send_redirects
ip link add ${bridge} type bridge
ip link set ${bridge} up
ip addr add ${net}.1/24 dev ${bridge}
ip addr add ${vip}/32 dev ${bridge}
echo 0 >/proc/sys/net/ipv4/conf/${bridge}/send_redirects
for ns in ${names}; do
  ip netns add $ns
  ip link add veth-$ns type veth peer name eth0 netns $ns
  ip link set veth-$ns master ${bridge} up
  ip -n $ns link set lo up
  ip -n $ns link set eth0 up
done
${Object.entries(hosts).map(([ns, a]) => `ip -n ${ns} addr add ${a}/24 dev eth0`).join('\n')}
${extra}`);
  }

  /** Stops what `spawnReady` started and removes the namespaces and the bridge. */
  down(): void {
    for (const c of this.children.splice(0)) c.kill('SIGKILL');
    sh(`
for ns in ${Object.keys(this.spec.hosts).join(' ')}; do
  ip netns pids $ns 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del $ns 2>/dev/null || true
done
ip link del ${this.spec.bridge} 2>/dev/null || true`);
  }

  /** Lines that make `ns` a DR real server: the VIP on its loopback, and it does not answer ARP for it. */
  drRealServer(ns: string): string {
    return `ip netns exec ${ns} sh -c 'for c in all eth0; do echo 1 >/proc/sys/net/ipv4/conf/$c/arp_ignore; echo 2 >/proc/sys/net/ipv4/conf/$c/arp_announce; done'
ip -n ${ns} addr add ${this.spec.vip}/32 dev lo`;
  }

  /** Lines that send `ns`'s replies from its own address back through the director (NAT), by a rule of table `table`. */
  natReplies(ns: string, table: number): string {
    return `ip -n ${ns} route add default via ${this.spec.net}.1 dev eth0 table ${table}
ip -n ${ns} rule add from ${this.spec.hosts[ns]} lookup ${table} priority 1000`;
  }

  /** Runs `node -e code` in `ns`; with `ready`, resolves once it prints 'ready' (within 30 s), fails if it exits first. */
  async spawnNode(ns: string, code: string, { ready = true } = {}): Promise<ChildProcess> {
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.children.push(p);
    if (!ready) return p;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node in ${ns} did not print 'ready' within 30 s`)), 30_000);
      p.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) { clearTimeout(timer); resolve(); } });
      p.once('exit', (code) => { clearTimeout(timer); reject(new Error(`node in ${ns} exited (${code}) before it was ready`)); });
    });
    return p;
  }
}
