/**
 * `director console add-agent CODE [--name NAME]`, `director console agents`,
 * `director console rename-agent ID NAME`, `director console remove-agent ID`:
 * the directors a console has enrolled, kept in its state folder
 * (console/agents-store.ts). A running console sees changes within a second.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AgentsStore, agentsFile, DEFAULT_CONSOLE_STATE_DIR } from '../../console/agents-store';
import { redeemCode, revokeCredential } from '../../console/enroll-client';
import type { CliIo } from './io';

export const CONSOLE_AGENTS_USAGE = `usage: director console add-agent CODE [--name NAME] [--state-dir DIR]
       director console agents [--state-dir DIR]
       director console rename-agent ID NAME [--state-dir DIR]
       director console remove-agent ID [--keep-credential] [--state-dir DIR]
  CODE        printed by 'director agent enroll' on the director; good once, for a few minutes
  --name      how the console shows this director (default: the agent's director id)
  --state-dir the console's state folder (default $DIRECTOR_CONSOLE_STATE_DIR or ${DEFAULT_CONSOLE_STATE_DIR})
  remove-agent also gives the console's credential back to the agent when it is reachable
`;

function store(stateDir: string | undefined): AgentsStore {
  return new AgentsStore(agentsFile(path.resolve(stateDir ?? process.env.DIRECTOR_CONSOLE_STATE_DIR ?? DEFAULT_CONSOLE_STATE_DIR)));
}

export async function consoleAgents(sub: string, args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { name: { type: 'string' }, 'state-dir': { type: 'string' }, 'keep-credential': { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.stderr(`director console ${sub}: ${(e as Error).message}\n${CONSOLE_AGENTS_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const s = store(values['state-dir']);
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
