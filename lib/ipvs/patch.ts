/**
 * A form's patch merged into the current configuration: what services.update
 * and destinations.update send, and what a staged change set computes, so
 * both read a patch the same way. The result is validated by the caller.
 */
import { DEFAULT_PERSISTENCE_TIMEOUT, type DestinationSpec, type ServiceSpec } from './model';
import type { DestinationPatch, ServicePatch } from '../schemas/api';

export function mergeServicePatch(cur: ServiceSpec, patch: ServicePatch): unknown {
  const flags = { ...cur.flags, ...patch.flags };
  let timeout = patch.timeout ?? cur.timeout;
  // turning persistence on without a timeout gets ipvsadm's bare -p value, as an operator expects
  if (flags.persistent && !cur.flags.persistent && patch.timeout === undefined && timeout === 0) {
    timeout = DEFAULT_PERSISTENCE_TIMEOUT;
  }
  return {
    key: cur.key,
    scheduler: patch.scheduler ?? cur.scheduler,
    flags,
    timeout,
    netmask: patch.netmask ?? cur.netmask,
    pe: patch.pe === undefined ? cur.pe : patch.pe,
  };
}

export function mergeDestinationPatch(cur: DestinationSpec, patch: DestinationPatch): unknown {
  return {
    family: cur.family, address: cur.address, port: cur.port,
    forward: patch.forward ?? cur.forward,
    weight: patch.weight ?? cur.weight,
    upperThreshold: patch.upperThreshold ?? cur.upperThreshold,
    lowerThreshold: patch.lowerThreshold ?? cur.lowerThreshold,
    tunnel: { ...cur.tunnel, ...patch.tunnel },
  };
}
