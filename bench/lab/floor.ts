/**
 * The floors under Director's CLI rows: a node process that makes only the
 * reads a command cannot do without, and decodes and prints nothing. Bundled
 * by bench/run.ts (bench/out/floor.mjs) so it starts like the CLI's bundle.
 *
 *   node bench/out/floor.mjs list    /proc/net/ip_vs and one GET_SERVICE dump (`director list`, `save --no-thresholds`)
 *   node bench/out/floor.mjs dests   one GET_SERVICE dump and one GET_DEST dump per service (`list --stats`)
 *
 * The GET_DEST requests echo each GET_SERVICE reply's attributes back (the
 * kernel reads only the service's key from them), so nothing is decoded.
 */
import { readFileSync } from 'node:fs';
import { createNetlink, Protocol } from 'netlink';
import { packGenlMessage, packGetFamily, unpackFamily, unpackGenlMessage } from '../../lib/ipvs/codec';
import * as C from '../../lib/ipvs/constants';

const sock = createNetlink(Protocol.GENERIC, { messagePeeking: false, msgBufferSize: 8 * 1024 } as Parameters<typeof createNetlink>[1]);
sock.on('error', () => {});
const localPort = sock.address().port;
const ask = async (family: number, payload: Uint8Array, dump: boolean) => {
  const [msgs] = await sock.request(family, [Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)],
    { flags: dump ? C.NLM_F_DUMP : 0, checkError: false, timeout: 60_000, localPort });
  return msgs.filter((m) => m.type === family);
};

const mode = process.argv[2];
const [fam] = await ask(C.GENL_ID_CTRL, packGetFamily(C.IPVS_GENL_NAME), false);
const ipvs = unpackFamily(unpackGenlMessage(fam!.data).attrs).id;
if (mode === 'list') readFileSync('/proc/net/ip_vs');
const services = await ask(ipvs, packGenlMessage(C.IPVS_CMD_GET_SERVICE, []), true);
if (mode === 'dests') {
  for (const s of services) await ask(ipvs, packGenlMessage(C.IPVS_CMD_GET_DEST, [unpackGenlMessage(s.data).attrs]), true);
} else if (mode !== 'list') {
  process.stderr.write('usage: floor.mjs list|dests\n');
  process.exitCode = 2;
}
sock.close();
