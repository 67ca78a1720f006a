/**
 * `director console …`: the console host's own commands.
 *
 *   director console user add NAME --role viewer|operator|admin
 *   director console user passwd NAME
 *   director console user role NAME viewer|operator|admin
 *   director console user remove NAME
 *   director console user list
 *   director console add-agent | agents | rename-agent | remove-agent   (directors: ../console-agents.ts)
 *
 * Passwords are read from the terminal (twice, not echoed) or, when stdin is not a
 * terminal, from its first line; only their scrypt hashes are stored. The users file
 * is the console's (console.toml's usersFile, else <stateDir>/users.json); a running
 * console notices changes within a second and ends the sessions they affect.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONSOLE_CONFIG, DEFAULT_STATE_DIR, parseConsoleFile, ROLES, type Role } from '../../../console/config';
import { UserStore } from '../../../console/users';
import { CONSOLE_AGENTS_USAGE, consoleAgents } from '../console-agents';
import { processIo, type CliIo } from '../io';

const USAGE = `usage: director console user add NAME --role viewer|operator|admin
       director console user passwd NAME
       director console user role NAME viewer|operator|admin
       director console user remove NAME
       director console user list
options: --config FILE      the console's configuration (default $DIRECTOR_CONSOLE_CONFIG or ${DEFAULT_CONSOLE_CONFIG})
         --users-file FILE  the users file itself (default: usersFile in the configuration, else <stateDir>/users.json)
A password is read from the terminal, or from the first line of stdin when it is not a terminal.
roles: viewer (watches), operator (changes rules), admin (operator + manages users)
`;

/** Where the users file is: --users-file, else the console's configuration, else the default state folder. */
export function usersFileFrom(values: { config?: string; 'users-file'?: string }, env: NodeJS.ProcessEnv = process.env): string {
  if (values['users-file']) return path.resolve(values['users-file']);
  const named = values.config ?? (env.DIRECTOR_CONSOLE_CONFIG || undefined);
  const file = named ?? (existsSync(DEFAULT_CONSOLE_CONFIG) ? DEFAULT_CONSOLE_CONFIG : undefined);
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`${file}: cannot read the console configuration: ${(e as Error).message}`);
    }
    const cfg = parseConsoleFile(file, text);
    return cfg.usersFile ?? path.join(cfg.stateDir ?? DEFAULT_STATE_DIR, 'users.json');
  }
  return env.DIRECTOR_CONSOLE_USERS_FILE || path.join(DEFAULT_STATE_DIR, 'users.json');
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readPassword(io: CliIo): Promise<string> {
  if (io === processIo && process.stdin.isTTY) {
    const a = await promptHidden('password: ');
    const b = await promptHidden('again:    ');
    if (a !== b) throw new Error('the two passwords differ; nothing changed');
    return a;
  }
  const text = await io.readStdin();
  const line = text.split('\n')[0]!.replace(/\r$/, '');
  if (!line) throw new Error('no password on stdin (give it on the first line)');
  return line;
}

function role(text: string | undefined): Role {
  if (!text || !ROLES.includes(text as Role)) throw new Error(`--role: expected one of ${ROLES.join(', ')}, got '${text ?? ''}'`);
  return text as Role;
}

async function user(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { role: { type: 'string' }, config: { type: 'string' }, 'users-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
  } catch (e) {
    io.stderr(`director console user: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [action, name, extra] = positionals;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const needsName = action === 'add' || action === 'passwd' || action === 'remove' || action === 'role';
  if (!action || !['add', 'passwd', 'role', 'remove', 'list'].includes(action) || (needsName && !name)) {
    io.stderr(USAGE);
    return 2;
  }
  const store = new UserStore(usersFileFrom(values));
  store.reload();
  switch (action) {
    case 'list':
      if (store.list().length === 0) io.stdout(`no users in ${store.file}\n`);
      for (const u of store.list()) io.stdout(`${u.name}\t${u.role}\n`);
      return 0;
    case 'add': {
      const r = role(values.role);
      await store.add(name!, r, await readPassword(io));
      io.stdout(`added ${name} (${r}) to ${store.file}\n`);
      return 0;
    }
    case 'passwd':
      if (!store.get(name!)) throw new Error(`no user '${name}' in ${store.file}`);
      await store.setPassword(name!, await readPassword(io));
      io.stdout(`password of ${name} changed; their sessions end\n`);
      return 0;
    case 'role': {
      const r = role(extra ?? values.role);
      store.setRole(name!, r);
      io.stdout(`${name} is now ${r}; their sessions end\n`);
      return 0;
    }
    case 'remove':
      store.remove(name!);
      io.stdout(`removed ${name}; their sessions end\n`);
      return 0;
  }
  return 2;
}

/** Sub-commands by name. */
const SUBCOMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  user,
  ...Object.fromEntries(['add-agent', 'agents', 'rename-agent', 'remove-agent'].map((sub) => [sub, (args: string[], io: CliIo) => consoleAgents(sub, args, io)])),
};

export default async function consoleCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const run = sub ? SUBCOMMANDS[sub] : undefined;
  if (!run) {
    if (sub === '-h' || sub === '--help') {
      io.stdout(`${USAGE}${CONSOLE_AGENTS_USAGE}`);
      return 0;
    }
    io.stderr(`director console: ${sub ? `unknown sub-command '${sub}'` : 'give a sub-command'} (${Object.keys(SUBCOMMANDS).join(', ')})\n${USAGE}${CONSOLE_AGENTS_USAGE}`);
    return 2;
  }
  return run(rest, io);
}
