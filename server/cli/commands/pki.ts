/**
 * `director pki init [--dir DIR] [--name CN]`: the console host's small CA
 * (ca.key 0600, ca.crt), from which `director agent cert` issues agents'
 * certificates.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initCa } from '../../pki/pki';
import { DEFAULT_PKI_DIR } from '../agent-tls';
import type { CliIo } from '../io';

const USAGE = `usage: director pki init [--dir DIR] [--name CN]
  --dir   where ca.key (0600) and ca.crt go (default ${DEFAULT_PKI_DIR}); an existing CA is never replaced
  --name  the CA's common name (default "Director CA")
`;

export default async function pki(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '-h' || sub === '--help') {
    io.stdout(USAGE);
    return 0;
  }
  if (sub !== 'init') {
    io.stderr(`director pki: ${sub ? `unknown subcommand '${sub}'` : 'missing subcommand'}\n${USAGE}`);
    return 2;
  }
  let values;
  try {
    ({ values } = parseArgs({ args: rest, options: { dir: { type: 'string' }, name: { type: 'string' } }, strict: true }));
  } catch (e) {
    io.stderr(`director pki init: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const r = await initCa({ dir: path.resolve(values.dir ?? DEFAULT_PKI_DIR), ...(values.name ? { name: values.name } : {}) });
  io.stdout(`CA certificate: ${r.cert}\nCA key:         ${r.key} (0600; keep it on this host)\nfingerprint:    ${r.fingerprint}\n`);
  return 0;
}
