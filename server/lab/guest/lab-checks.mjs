// Inside the lab kernel: the agent's health.json for the lab's services, as
// keepalived would have it in the seed's story: an HTTP GET on every real
// server of each service (HTTP status is the truth, not ping). The agent
// reads the file within two seconds of it appearing.
//   node lab-checks.mjs SERVICES_JSON RS_IP... > health.json
import { readFileSync } from 'node:fs';

const [servicesFile, ...realServers] = process.argv.slice(2);
const FORWARD = { DR: 'dr', NAT: 'nat', TUN: 'tun' };
const services = JSON.parse(readFileSync(servicesFile, 'utf8'));
const health = services.map((s) => ({
  service: { kind: 'addr', family: 'inet', protocol: 'tcp', address: s.address, port: s.port },
  // a broken real server is out within about 8 s (three failed tries: a slow
  // moment of the emulated kernel is not an outage), back within 3 s of its repair
  timing: { delayLoop: 3, connectTimeout: 3, retry: 2, delayBeforeRetry: 1 },
  realServers: realServers.map((address) => ({
    destination: {
      family: 'inet', address, port: s.realPort, forward: FORWARD[s.method], weight: 1,
      upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' },
    },
    checks: [{ type: 'http', urls: [{ path: '/', statusCodes: ['200'] }] }],
  })),
}));
process.stdout.write(`${JSON.stringify({ version: 1, services: health }, null, 1)}\n`);
