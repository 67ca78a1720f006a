/**
 * `director <command> [args]`: each command lives in ./commands/<command>.ts
 * and exports `default (args, io) => Promise<exitCode>`. Output goes to
 * stdout, diagnostics to stderr, failures exit non-zero.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isIpvsError } from '../../lib/ipvs/errors';
import { processIo, type CliIo } from './io';
import { VERSION } from './version';

type Command = (args: string[], io: CliIo) => Promise<number>;
/** Command modules by name; the bundled CLI (scripts/build-cli.mjs) passes them in since it has no commands folder. */
export type CommandLoaders = Record<string, () => Promise<{ default: Command }>>;
const commandsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'commands');

function available(loaders?: CommandLoaders): string[] {
  if (loaders) return Object.keys(loaders).sort();
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

function usage(loaders?: CommandLoaders): string {
  return `usage: director <command> [options] | director --version\ncommands: ${available(loaders).join(', ')}\n` +
    'or ipvsadm\'s syntax: director -Ln, director -A -t VIP:PORT -s rr, ... (director -h for those)\n';
}

/** `director -L…`, `director -A …`: ipvsadm's own syntax (./ipvsadm.ts), loaded only when used. */
async function ipvsadmSyntax(argv: string[], io: CliIo): Promise<number> {
  const [{ runIpvsadm }, { localAgentWriter }, { systemResolver }] = await Promise.all([
    import('./ipvsadm'), import('./agent-writer'), import('../snapshot/resolver'),
  ]);
  return runIpvsadm(argv, io, {
    // the netlink addon loads only for what talks to the kernel (not for -Lc, a refused line or -h)
    openBackend: async () => (await import('../ipvs/open')).openIpvs({ reuse: false }),
    agentWriter: localAgentWriter,
    connTable: '/proc/net/ip_vs_conn',
    resolver: systemResolver,
  });
}

export async function runCli(argv: string[], io: CliIo = processIo, loaders?: CommandLoaders): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout(`director ${VERSION}\n`);
    return 0;
  }
  if (!name || name === '--help' || name === 'help') {
    io.stdout(usage(loaders));
    return name ? 0 : 2;
  }
  if (name.startsWith('-')) {
    try {
      return await ipvsadmSyntax(argv, io);
    } catch (e) {
      io.stderr(`director: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
  }
  const known = loaders ? Object.hasOwn(loaders, name) : existsSync(path.join(commandsDir, `${name}.ts`));
  if (!/^[a-z][a-z-]*$/.test(name) || !known) {
    io.stderr(`director: unknown command '${name}'\n${usage(loaders)}`);
    return 2;
  }
  const mod = loaders
    ? await loaders[name]!()
    : (await import(pathToFileURL(path.join(commandsDir, `${name}.ts`)).href)) as { default: Command };
  try {
    return await mod.default(args, io);
  } catch (e) {
    io.stderr(`director ${name}: ${isIpvsError(e) || e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
