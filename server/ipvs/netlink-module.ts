/**
 * npm `netlink`, a CommonJS package, loaded with require(): an ESM import of
 * it first has node scan the package's sources for their export names
 * (cjs-module-lexer), a cost every `director list` would pay at start-up.
 */
import { createRequire } from 'node:module';
import type * as Netlink from 'netlink';

export const netlink = createRequire(import.meta.url)('netlink') as typeof Netlink;
