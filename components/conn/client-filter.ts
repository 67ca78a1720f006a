import { ADDRESS_OR_CIDR_HINT, isAddressOrCidr } from '@/lib/net/ip';

/** The agent's limit on a client filter (lib/schemas/api.ts cidrSchema). */
const MAX_TEXT = 64;

/**
 * Why a client filter (address or CIDR) is refused, or null: the same rule as the agent's cidrSchema
 * without zod, which would otherwise come with the connections page's first scripts.
 */
export function clientFilterError(text: string): string | null {
  const s = text.trim();
  if (!s) return null;
  if (s.length > MAX_TEXT) return `at most ${MAX_TEXT} characters`;
  return isAddressOrCidr(s) ? null : ADDRESS_OR_CIDR_HINT;
}
