/**
 * Who should own what a root CLI writes into the agent's state folder: the
 * agent runs as its own user and must be able to read it (health.json is
 * 0600). The folder's owner when that is not root; otherwise the `director`
 * system user when there is one; otherwise nobody to hand over to (null).
 */
import { readFile, stat } from 'node:fs/promises';

export interface Owner {
  uid: number;
  gid: number;
}

/** A user's uid and gid from passwd(5) text (no NSS lookup: the agent's user is a local system user). */
export function passwdUser(passwd: string, name: string): Owner | null {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] !== name || f.length < 4) continue;
    const uid = Number(f[2]), gid = Number(f[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
  }
  return null;
}

export async function stateOwner(
  stateDir: string, opts: { euid?: number; passwdFile?: string; user?: string } = {},
): Promise<Owner | null> {
  const euid = opts.euid ?? process.geteuid?.() ?? -1;
  // only root writes files another user must read; anyone else owns what it writes
  if (euid !== 0) return null;
  try {
    const st = await stat(stateDir);
    if (st.uid !== 0) return { uid: st.uid, gid: st.gid };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  let passwd = '';
  try {
    passwd = await readFile(opts.passwdFile ?? '/etc/passwd', 'utf8');
  } catch {
    return null;
  }
  return passwdUser(passwd, opts.user ?? 'director');
}
