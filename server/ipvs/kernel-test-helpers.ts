/** Shared helpers for kernel tests of the IPVS client (run inside the lab kernel only). */
import { execFileSync } from 'node:child_process';
import type { DestinationSpec, ServiceKey, ServiceSpec } from '@/lib/ipvs/model';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL } from '@/lib/ipvs/model';

export function ipvsadm(...args: string[]): string {
  return execFileSync('ipvsadm', args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}
export function ipvsadmRestore(text: string): void {
  execFileSync('ipvsadm', ['-R'], { input: text, encoding: 'utf8' });
}
export function sh(cmd: string): string {
  return execFileSync('bash', ['-c', cmd], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}
/** `ipvsadm -Sn` as a sorted list of lines: ipvsadm's own order is arithmetic noise (reference §8.8). */
export function savedLines(): string[] {
  return ipvsadm('-Sn').split('\n').filter(Boolean).sort();
}

const familyOfText = (a: string) => (a.includes(':') ? 'inet6' as const : 'inet' as const);
export const tcp = (address: string, port: number): ServiceKey => ({ kind: 'addr', family: familyOfText(address), protocol: 'tcp', address, port });
export const udp = (address: string, port: number): ServiceKey => ({ kind: 'addr', family: familyOfText(address), protocol: 'udp', address, port });
export const sctp = (address: string, port: number): ServiceKey => ({ kind: 'addr', family: familyOfText(address), protocol: 'sctp', address, port });
export const fwm = (fwmark: number, family: 'inet' | 'inet6' = 'inet'): ServiceKey => ({ kind: 'fwmark', family, fwmark });

export function svc(key: ServiceKey, o: Partial<ServiceSpec> = {}): ServiceSpec {
  return { key, scheduler: 'wlc', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: key.family === 'inet' ? '255.255.255.255' : '128', pe: null, ...o };
}
export function dst(address: string, port: number, o: Partial<DestinationSpec> = {}): DestinationSpec {
  return {
    family: familyOfText(address), address, port, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0,
    tunnel: { ...DEFAULT_TUNNEL }, ...o,
  };
}
export const persistent = { ...DEFAULT_FLAGS, persistent: true };

// Every option kind (reference §8.4's verified table) plus thresholds, and an
// address pair that shows ipvsadm's signed-subtraction order (200.x before 10.x).
export const EVERY_OPTION_KIND = [
  '-A -t 10.0.0.1:80 -s rr',
  '-a -t 10.0.0.1:80 -r 192.168.1.10:8080 -m -w 5 -x 100 -y 50',
  '-a -t 10.0.0.1:80 -r 192.168.1.11:80 -m -w 1',
  '-a -t 10.0.0.1:80 -r 10.1.1.1:80 -m -w 1',
  '-a -t 10.0.0.1:80 -r 200.1.1.1:80 -m -w 1',
  '-A -t 200.0.0.1:80 -s wrr',
  '-A -t 10.0.0.2:443 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port',
  '-a -t 10.0.0.2:443 -r 10.0.0.50:443 -g -w 1',
  '-A -t 10.0.0.5:0 -s wlc -p 360',
  '-A -u 10.0.0.1:53 -s wlc -o',
  '-a -u 10.0.0.1:53 -r 192.168.1.20:53 -g -w 0',
  '-A -u 10.0.0.4:5060 -s rr -p 30 --pe sip',
  '-A --sctp-service 10.0.0.3:3868 -s nq',
  '-a --sctp-service 10.0.0.3:3868 -r 192.168.1.50:3868 -m -w 1',
  '-A -t [2001:db8::1]:80 -s mh -b mh-port',
  '-a -t [2001:db8::1]:80 -r 192.168.1.40:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum',
  '-a -t [2001:db8::1]:80 -r 192.168.1.42:80 -i -w 1 --tun-type gre --tun-csum',
  '-a -t [2001:db8::1]:80 -r [2001:db8::a]:8080 -m -w 2',
  '-A -f 7 -s wrr -p 360',
  '-a -f 7 -r 192.168.1.30:0 -m -w 3',
  '-a -f 7 -r 192.168.1.31:0 -i -w 1 --tun-type ipip',
  '-A -f 9 -6 -s lc -p 100 -M 64',
  '-a -f 9 -6 -r [2001:db8::b]:0 -g -w 1',
  '-A -t 10.0.0.9:80 -s fo -b flag-1,flag-3',
];
