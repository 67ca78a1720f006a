/**
 * `director console add-agent CODE [--name NAME]`, `director console agents`,
 * `director console rename-agent ID NAME`, `director console remove-agent ID`:
 * the directors a console has enrolled, kept in its state folder
 * (console/agents-store.ts). A running console sees changes within a second.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AgentsStore, agentsFile, DEFAULT_CONSOLE_STATE_DIR } from '../../console/agents-store';
import { DEFAULT_CONSOLE_CONFIG, parseConsoleFile } from '../../console/config';
import { redeemCode, revokeCredential } from '../../console/enroll-client';
import type { CliIo } from './io';

export const CONSOLE_AGENTS_USAGE = `usage: director console add-agent CODE [--name NAME] [--state-dir DIR]
       director console agents [--state-dir DIR]
       director console rename-agent ID NAME [--state-dir DIR]
       director console remove-agent ID [--keep-credential] [--state-dir DIR]
  CODE        printed by 'director agent enroll' on the director; good once, for a few minutes
  --name      how the console shows this director (default: the agent's director id)
  --state-dir the console's state folder (default $DIRECTOR_CONSOLE_STATE_DIR, else stateDir in
              --config FILE / ${DEFAULT_CONSOLE_CONFIG}, else ${DEFAULT_CONSOLE_STATE_DIR})
  remove-agent also gives the console's credential back to the agent when it is reachable
`;

/** The console's state folder: --state-dir, else $DIRECTOR_CONSOLE_STATE_DIR, else console.toml's stateDir, else the default. */
export function consoleStateDir(values: { 'state-dir'?: string; config?: string }, env: Record<string, string | undefined> = process.env): string {
  if (values['state-dir']) return path.resolve(values['state-dir']);
  if (env.DIRECTOR_CONSOLE_STATE_DIR) return path.resolve(env.DIRECTOR_CONSOLE_STATE_DIR);
  const file = values.config ?? (env.DIRECTOR_CONSOLE_CONFIG || (existsSync(DEFAULT_CONSOLE_CONFIG) ? DEFAULT_CONSOLE_CONFIG : undefined));
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`${file}: cannot read the console configuration: ${(e as Error).message}`);
    }
    return parseConsoleFile(file, text).stateDir ?? DEFAULT_CONSOLE_STATE_DIR;
  }
  return DEFAULT_CONSOLE_STATE_DIR;
}

function store(values: { 'state-dir'?: string; config?: string }): AgentsStore {
  return new AgentsStore(agentsFile(consoleStateDir(values)));
}

export async function consoleAgents(sub: string, args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { name: { type: 'string' }, 'state-dir': { type: 'string' }, config: { type: 'string' }, 'keep-credential': { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.stderr(`director console ${sub}: ${(e as Error).message}\n${CONSOLE_AGENTS_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const s = store(values);
  if (sub === 'add-agent') {
    if (positionals.length !== 1) {
      io.stderr(`director console add-agent: give the code printed by 'director agent enroll'\n${CONSOLE_AGENTS_USAGE}`);
      return 2;
    }
    const got = await redeemCode(positionals[0]!, `console ${os.hostname()}`);
    const name = values.name ?? got.directorId;
    const a = s.add({
      name, url: got.url, fingerprint: got.fingerprint, viewerToken: got.viewerToken, operatorToken: got.operatorToken,
      credentialId: got.credentialId, enrolledAt: new Date().toISOString(), id: name,
    });
    io.stdout(`enrolled director '${a.name}' (id ${a.id}) at ${a.url}, certificate ${a.fingerprint}\n`);
    return 0;
  }
  if (sub === 'agents') {
    const list = s.list();
    if (!list.length) io.stdout('no enrolled directors\n');
    for (const a of list) io.stdout(`${a.id}\t${a.name}\t${a.url}\t${a.fingerprint}\tenrolled ${a.enrolledAt}\n`);
    return 0;
  }
  if (sub === 'rename-agent') {
    if (positionals.length !== 2) {
      io.stderr(`director console rename-agent: give ID and NAME\n${CONSOLE_AGENTS_USAGE}`);
      return 2;
    }
    const a = s.rename(positionals[0]!, positionals[1]!);
    io.stdout(`director ${a.id} is now '${a.name}'\n`);
    return 0;
  }
  if (sub === 'remove-agent') {
    if (positionals.length !== 1) {
      io.stderr(`director console remove-agent: give the director's ID (see 'director console agents')\n${CONSOLE_AGENTS_USAGE}`);
      return 2;
    }
    const a = s.remove(positionals[0]!);
    io.stdout(`removed director '${a.name}' (${a.url})\n`);
    if (!values['keep-credential']) {
      try {
        await revokeCredential(a);
        io.stdout('its agent revoked the console\'s credential\n');
      } catch (e) {
        io.stderr(`director console remove-agent: the credential could not be revoked (${(e as Error).message}); ` +
          `on the director, remove the entry '${a.credentialId}' from <state>/tokens/consoles.json and restart the agent\n`);
      }
    }
    return 0;
  }
  io.stderr(`director console: unknown subcommand '${sub}'\n${CONSOLE_AGENTS_USAGE}`);
  return 2;
}
