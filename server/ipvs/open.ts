/**
 * Opens the kernel's IPVS table for Director, turning the two usual
 * start-up failures into messages that say what to do.
 */
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { IpvsError } from '@/lib/ipvs/errors';
import { KernelError, NetlinkIpvs, errnoName, type NetlinkIpvsOptions } from './netlink-client';

export const NO_IPVS_MESSAGE = 'this kernel has no IPVS: load ip_vs or use the lab (npm start)';

export async function openIpvs(opts: NetlinkIpvsOptions = {}): Promise<IpvsBackend> {
  let ipvs: NetlinkIpvs;
  try {
    ipvs = await NetlinkIpvs.connect(opts);
  } catch (e) {
    if (e instanceof KernelError && errnoName(e.errno) === 'ENOENT') throw new IpvsError('unavailable', NO_IPVS_MESSAGE, 'ENOENT', { cause: e });
    if (e instanceof IpvsError) throw e;
    // The native socket itself could not be created (no netlink, addon missing).
    throw new IpvsError('unavailable', `cannot open a netlink socket: ${(e as Error).message}`, undefined, { cause: e });
  }
  try {
    // Every IPVS command, even a read, needs CAP_NET_ADMIN: find out now rather than on the first click.
    await ipvs.info();
  } catch (e) {
    ipvs.close();
    if (e instanceof IpvsError && e.code === 'permission') {
      throw new IpvsError('permission', 'permission denied: IPVS needs CAP_NET_ADMIN (run the Director agent as root or grant it that capability)', e.errno, { cause: e });
    }
    throw e;
  }
  return ipvs;
}
