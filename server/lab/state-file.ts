/**
 * Where a running `npm start` describes itself (agent URL, tokens, console
 * user names), for `director lab` and the tests. Mode 0600, removed on stop.
 * No password: those are printed once and only their hashes are stored.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// DIRECTOR_STATE_DIR: where the checkout is read-only (npm start inside the lab kernel, in its test)
export const STATE_FILE_PATH = process.env.DIRECTOR_STATE_DIR
  ? path.resolve(process.env.DIRECTOR_STATE_DIR, 'start.json')
  : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.state/start.json');

export interface StartState {
  pid: number;
  mode: 'lab' | 'host';
  agentUrl: string;
  consoleUrl: string | null;
  viewerToken: string;
  operatorToken: string;
  signIn: { username: string } | null;
  /** the read-only account printed next to the operator's */
  viewerSignIn?: { username: string } | null;
  /** HA lab (npm start -- --ha): every director's agent, all with the same tokens; agentUrl is the first */
  agents?: { id: string; url: string }[];
}
