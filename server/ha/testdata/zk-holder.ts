/**
 * A separate process holding a ZooKeeper session and an ephemeral znode, for
 * the kernel tests: SIGKILL it to make a dead holder whose session expires,
 * SIGSTOP/SIGCONT it to make a holder that learns its session expired.
 * argv: CONNECT PATH NAME SESSION_MS. Prints one line per session state.
 */
import pino from 'pino';
import { ZkSession } from '../zookeeper';

const [connect, path, name, ms] = process.argv.slice(2) as [string, string, string, string];
let created = false;
const zk: ZkSession = new ZkSession({
  connect, sessionTimeoutMs: Number(ms), log: pino({ level: 'silent' }),
  onChange: () => {
    process.stdout.write(`${zk.state}\n`);
    if (zk.state === 'connected' && !created) {
      created = true;
      void zk.mkdirp(path.slice(0, path.lastIndexOf('/')))
        .then(() => zk.create(path, Buffer.from(JSON.stringify({ director: name, since: Date.now(), priority: 1 })), true))
        .then(() => process.stdout.write('created\n'), (e: Error) => process.stdout.write(`error ${e.message}\n`));
    }
  },
});
zk.start();
