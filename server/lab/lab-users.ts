/** The lab's console sign-ins (npm start): passwords shown once, only hashes on disk. */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { hashPassword } from '../../console/users';

export interface SignIn { username: string; password: string; role: 'viewer' | 'operator' | 'admin' }
/**
 * The lab's sign-ins: passwords given by the caller (e2e passes its own through the
 * environment) or generated, printed once to the terminal and never written: the
 * console reads a users file holding only their scrypt hashes.
 */
export async function writeLabUsers(file: string, env: Record<string, string | undefined> = process.env): Promise<SignIn[]> {
  const pick = (name: string) => env[name] || randomBytes(12).toString('base64url');
  const signIns: SignIn[] = [
    { username: 'operator', password: pick('DIRECTOR_LAB_PASSWORD'), role: 'operator' },
    // a read-only account too, so the viewer role can be tried without configuring anything
    { username: 'viewer', password: pick('DIRECTOR_LAB_VIEWER_PASSWORD'), role: 'viewer' },
    // and one that may manage users (the console's Users page)
    { username: 'admin', password: pick('DIRECTOR_LAB_ADMIN_PASSWORD'), role: 'admin' },
  ];
  const users = await Promise.all(signIns.map(async (u) => ({ name: u.username, role: u.role, hash: await hashPassword(u.password) })));
  writeFileSync(file, `${JSON.stringify({ version: 1, users }, null, 2)}\n`, { mode: 0o600 });
  return signIns;
}
