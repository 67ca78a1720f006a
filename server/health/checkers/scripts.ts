/**
 * The checks folder: the only scripts a misc check may run. Like keepalived's
 * enable_script_security, the folder, its parents and the script must be
 * owned by the administrator and writable by nobody else, checked at every
 * run, so an operator token (or anyone who is not root on the director)
 * cannot choose what runs.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { SCRIPT_NAME_RE } from '@/lib/schemas/health';

export class ScriptRefusedError extends Error {
  override readonly name = 'ScriptRefusedError';
}

export interface ScriptRules {
  /** the checks folder (--checks-dir) */
  dir: string;
  /** who must own the folder and its scripts: root (tests set their own uid) */
  ownerUid: number;
}

const describeMode = (m: number) => (m & 0o7777).toString(8).padStart(4, '0');

/** Folders from the checks folder up to /: none may let anyone but root or the owner swap what it holds. */
async function checkFolderChain(rules: ScriptRules): Promise<string> {
  let real: string;
  try {
    real = await realpath(rules.dir);
  } catch (e) {
    throw new ScriptRefusedError(`checks folder ${rules.dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (e as Error).message}`);
  }
  const st = await stat(real);
  if (!st.isDirectory()) throw new ScriptRefusedError(`checks folder ${rules.dir} is not a folder`);
  if (st.uid !== rules.ownerUid) throw new ScriptRefusedError(`checks folder ${rules.dir} is owned by uid ${st.uid}, not ${rules.ownerUid}`);
  if (st.mode & 0o022) throw new ScriptRefusedError(`checks folder ${rules.dir} is group- or world-writable (mode ${describeMode(st.mode)})`);
  for (let p = path.dirname(real); ; p = path.dirname(p)) {
    const up = await stat(p);
    // a sticky world-writable parent (/tmp) lets nobody else rename our folder away
    const othersMayWrite = (up.mode & 0o022) !== 0 && (up.mode & 0o1000) === 0;
    if ((up.uid !== 0 && up.uid !== rules.ownerUid) || othersMayWrite) {
      throw new ScriptRefusedError(`checks folder ${rules.dir}: its parent ${p} can be changed by others (owner uid ${up.uid}, mode ${describeMode(up.mode)})`);
    }
    if (p === path.dirname(p)) break;
  }
  return real;
}

/**
 * The absolute path to run for `name`, or a ScriptRefusedError saying why
 * not. The path returned is the resolved one, inside the folder.
 */
export async function resolveScript(rules: ScriptRules, name: string): Promise<string> {
  if (!SCRIPT_NAME_RE.test(name)) throw new ScriptRefusedError(`script '${name.slice(0, 80)}' is not a file name`);
  const dir = await checkFolderChain(rules);
  const file = path.join(dir, name);
  let real: string;
  try {
    await lstat(file);
    real = await realpath(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScriptRefusedError(`script ${name}: ${code === 'ENOENT' ? `no such file in ${rules.dir}` : (e as Error).message}`);
  }
  if (path.dirname(real) !== dir) throw new ScriptRefusedError(`script ${name} is a link to ${real}, outside ${rules.dir}`);
  const st = await stat(real);
  if (!st.isFile()) throw new ScriptRefusedError(`script ${name} is not a regular file`);
  if (st.uid !== rules.ownerUid) throw new ScriptRefusedError(`script ${name} is owned by uid ${st.uid}, not ${rules.ownerUid}`);
  if (st.mode & 0o022) throw new ScriptRefusedError(`script ${name} is group- or world-writable (mode ${describeMode(st.mode)})`);
  if (st.mode & 0o6000) throw new ScriptRefusedError(`script ${name} is set-user-ID or set-group-ID (mode ${describeMode(st.mode)})`);
  if ((st.mode & 0o001) === 0) throw new ScriptRefusedError(`script ${name} is not executable by others (mode ${describeMode(st.mode)}): checks run as an unprivileged user`);
  return real;
}

export interface ScriptEntry {
  name: string;
  /** why a check naming it would be refused; absent when it would run */
  problem?: string;
}

/** What the folder offers, for the form: every file with a valid name, each with its problem if any. */
export async function listScripts(rules: ScriptRules, limit = 256): Promise<{ dir: string; scripts: ScriptEntry[]; problem?: string }> {
  try {
    await checkFolderChain(rules);
  } catch (e) {
    return { dir: rules.dir, scripts: [], problem: (e as Error).message };
  }
  const names = (await readdir(rules.dir)).filter((n) => SCRIPT_NAME_RE.test(n)).sort().slice(0, limit);
  const scripts: ScriptEntry[] = [];
  for (const name of names) {
    try {
      await resolveScript(rules, name);
      scripts.push({ name });
    } catch (e) {
      scripts.push({ name, problem: (e as Error).message });
    }
  }
  return { dir: rules.dir, scripts };
}
