// Opens TCP connections to the given VIPs (port 80) at a steady rate and drops each after 300 ms, so
// the director's IPVS counts connections and packets on those services every second. Run in a client
// network namespace by bench/lab/agent.ts; the VIPs answer nothing (their real servers are unreachable).
//   node syn-load.mjs RATE_PER_VIP VIP...
import net from 'node:net';

const [rate, ...vips] = process.argv.slice(2);
const perSecond = Number(rate);
setInterval(() => {
  for (const host of vips) {
    const s = net.connect({ host, port: 80 });
    s.on('error', () => {});
    setTimeout(() => s.destroy(), 300);
  }
}, 1000 / perSecond);
