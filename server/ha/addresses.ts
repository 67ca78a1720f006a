/**
 * The kernel's view of this director's VIPs, through an rtnetlink socket in
 * the agent's network namespace: one address dump per look, no `ip` exec
 * (an exec costs up to a second in a busy lab kernel, too slow for a 250 ms loop).
 */
import type { RtNetlinkSocket } from 'netlink';
import { netlink } from '../ipvs/netlink-module';

const AF_INET = 2;

function bare(vip: string): string {
  return vip.split('/')[0]!;
}
function prefixOf(vip: string): number {
  const p = vip.split('/')[1];
  return p === undefined ? 32 : Number(p);
}

export class KernelAddresses {
  private readonly sock: RtNetlinkSocket = netlink.createRtNetlink();
  private indexes = new Map<string, number>();

  private async ifindex(ifname: string): Promise<number | null> {
    const known = this.indexes.get(ifname);
    if (known !== undefined) return known;
    const links = await this.sock.getLinks();
    this.indexes = new Map(links.flatMap((l) => (l.attrs.ifname && l.data.index !== undefined ? [[l.attrs.ifname, l.data.index] as const] : [])));
    return this.indexes.get(ifname) ?? null;
  }

  /** IPv4 addresses on the interface, dotted; empty when the interface does not exist. */
  async list(ifname: string): Promise<string[]> {
    const index = await this.ifindex(ifname);
    if (index === null) return [];
    const addrs = await this.sock.getAddresses();
    const found = addrs.filter((a) => a.data.family === AF_INET && a.data.index === index && a.attrs.local);
    if (found.length === 0) this.indexes.delete(ifname); // the interface may have been re-created with a new index
    return found.map((a) => [...a.attrs.local!].join('.'));
  }

  /** Which of `vips` (with or without /prefix) are on the interface, as given. */
  async present(ifname: string, vips: string[]): Promise<string[]> {
    const have = new Set(await this.list(ifname));
    return vips.filter((v) => have.has(bare(v)));
  }

  /** Remove one VIP from the interface; false when it was not there. */
  async remove(ifname: string, vip: string): Promise<boolean> {
    const index = await this.ifindex(ifname);
    if (index === null) return false;
    const addr = Buffer.from(bare(vip).split('.').map(Number));
    try {
      await this.sock.delAddress({ family: AF_INET, prefixlen: prefixOf(vip), index }, { local: addr, address: addr });
      return true;
    } catch (e) {
      // EADDRNOTAVAIL: not there
      if (/EADDRNOTAVAIL|Cannot assign/i.test(String((e as Error).message)) || (e as { errno?: number }).errno === 99) return false;
      throw e;
    }
  }

  close(): void {
    this.sock.socket.close();
  }
}
