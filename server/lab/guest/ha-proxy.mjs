// The host reaches only the guest's root namespace (tap vec0); the agents
// listen inside their directors' namespaces. A raw TCP pipe per director
// (WebSocket upgrades pass through untouched):
//   node ha-proxy.mjs LISTEN_ADDR PORT=TARGET_ADDR:TARGET_PORT...
import net from 'node:net';

const [listenAddr, ...maps] = process.argv.slice(2);
if (!listenAddr || maps.length === 0) {
  process.stderr.write('usage: node ha-proxy.mjs LISTEN_ADDR PORT=TARGET_ADDR:TARGET_PORT...\n');
  process.exit(2);
}

for (const m of maps) {
  const match = /^(\d+)=([\d.]+):(\d+)$/.exec(m);
  if (!match) {
    process.stderr.write(`ha-proxy: '${m}' is not PORT=ADDR:PORT\n`);
    process.exit(2);
  }
  const [, port, host, targetPort] = match;
  const server = net.createServer((inbound) => {
    const outbound = net.connect({ host, port: Number(targetPort) });
    // a director that is down refuses or times out: the caller sees its connection closed
    outbound.setTimeout(10_000, () => outbound.destroy());
    outbound.once('connect', () => outbound.setTimeout(0));
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    const close = () => { inbound.destroy(); outbound.destroy(); };
    inbound.on('error', close);
    outbound.on('error', close);
    inbound.on('close', close);
    outbound.on('close', close);
  });
  server.on('error', (e) => {
    process.stderr.write(`ha-proxy: ${listenAddr}:${port}: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(Number(port), listenAddr);
}
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
