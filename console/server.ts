/**
 * The Director console: an unprivileged web server that serves the Next app,
 * signs users in, and forwards tRPC to the agents with tokens the browser
 * never sees.   Run: npx tsx console/server.ts [--config FILE]   (NODE_ENV; see config.ts)
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import next from 'next';
import { createConsoleApp, type ConsoleApp } from './app';
import { ConfigError, loadConfig, type ConsoleConfig } from './config';
import { UserStoreError } from './users';

process.env.NEXT_TELEMETRY_DISABLED = '1';

function fail(message: string): never {
  console.error(`director console: ${message}`);
  process.exit(2);
}

let cfg: ConsoleConfig;
try {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { config: { type: 'string' } }, strict: true });
  cfg = loadConfig({ configPath: values.config });
} catch (e) {
  if (e instanceof ConfigError) fail(`configuration error:\n${e.message}`);
  if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) fail(`${(e as Error).message}\nusage: console/server.ts [--config FILE]`);
  throw e;
}

if (typeof process.getuid === 'function' && process.getuid() === 0 && !cfg.allowRoot) {
  fail('refusing to run as root; the console needs no privilege (only the agent does). Set allowRoot = true (or DIRECTOR_CONSOLE_ALLOW_ROOT=1) to override.');
}

const dev = process.env.NODE_ENV !== 'production';
const { host: hostname, port } = cfg.listen;
const nextApp = next({ dev, dir: path.resolve(import.meta.dirname, '..'), hostname, port });
const handle = nextApp.getRequestHandler();

let app: ConsoleApp;
try {
  app = await createConsoleApp({ cfg, dev, handleNext: (req, res) => handle(req, res) });
} catch (e) {
  // The service does not start half-configured: a bad users file or TLS key stops it here.
  if (e instanceof UserStoreError) fail(`users file error:\n${e.message}`);
  if ((e as NodeJS.ErrnoException).code !== undefined || /PEM|key|certificate/i.test((e as Error).message)) {
    fail(`cannot start the ${cfg.tls ? 'TLS ' : ''}listener: ${(e as Error).message}${cfg.tls ? ` (tls.cert ${cfg.tls.cert}, tls.key ${cfg.tls.key})` : ''}`);
  }
  throw e;
}
await nextApp.prepare();
const { server } = app;

server.on('error', (e) => fail(`cannot listen on ${hostname}:${port}: ${e.message}`));
server.listen(port, hostname, () => {
  const scheme = cfg.tls ? 'https' : 'http';
  console.log(`director console: ${scheme}://${hostname}:${port} (${dev ? 'development' : 'production'}${cfg.file ? `, ${cfg.file}` : ''}), ${cfg.agents.length} director(s): ${cfg.agents.map((a) => a.id).join(', ')}`);
});

function shutdown(): void {
  void app.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
