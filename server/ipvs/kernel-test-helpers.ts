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
