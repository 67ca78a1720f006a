/**
 * The HA secrets in the agent's state folder: the ZooKeeper digest
 * credentials and the key that signs the replicated table. Every director of
 * a cluster holds the same two files (one ZooKeeper identity, one key). Each
 * file must be a regular file owned by the agent's user and unreadable by
 * anyone else, or HA refuses to start and says which file and why.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { HaConfig } from '@/lib/schemas/ha';

export interface ZkCredentials { user: string; password: string }
export interface HaSecrets { zk: ZkCredentials; tableKey: Buffer }

const MAX_SECRET_BYTES = 4096;
export const MIN_PASSWORD_CHARS = 16;
export const MIN_TABLE_KEY_CHARS = 32;

const makeHint = (file: string) =>
  `create it on one director with \`umask 077; head -c 32 /dev/urandom | base64 > ${file}\` and copy it to the others`;

/** A secret file's text, after the checks on type, owner and mode. */
export async function readSecretFile(file: string, what: string, hint = makeHint(file)): Promise<string> {
  let fh;
  try {
    // O_NOFOLLOW: a symbolic link could point anyone's file at the agent
    fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${what} ${file} is missing: ${hint}`);
    if (code === 'ELOOP') throw new Error(`${what} ${file} is a symbolic link: give the file itself`);
    throw new Error(`${what} ${file}: ${(e as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`${what} ${file} is not a regular file`);
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) {
      throw new Error(`${what} ${file} is owned by uid ${st.uid}, not by the agent's user (uid ${uid}): chown it to that user`);
    }
    if ((st.mode & 0o077) !== 0) {
      throw new Error(`${what} ${file} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: group and others must have no access (chmod 600 ${file})`);
    }
    if (st.size > MAX_SECRET_BYTES) throw new Error(`${what} ${file} is ${st.size} bytes: at most ${MAX_SECRET_BYTES}`);
    return (await fh.readFile({ encoding: 'utf8' })).trim();
  } finally {
    await fh.close();
  }
}

/** `user:password` on one line; digest user names cannot hold ':' and ZooKeeper's digest ids are built from both. */
export function parseCredentials(text: string, file: string): ZkCredentials {
  const m = /^([A-Za-z0-9_.-]{1,64}):(\S+)$/.exec(text);
  if (!m) throw new Error(`ZooKeeper credentials ${file}: expected one line \`user:password\` (user: letters, digits, _ . -; password without spaces)`);
  if (m[2]!.length < MIN_PASSWORD_CHARS) throw new Error(`ZooKeeper credentials ${file}: the password has ${m[2]!.length} characters, at least ${MIN_PASSWORD_CHARS} are needed`);
  return { user: m[1]!, password: m[2]! };
}

export function parseTableKey(text: string, file: string): Buffer {
  if (/\s/.test(text)) throw new Error(`table key ${file}: expected one line without spaces`);
  if (text.length < MIN_TABLE_KEY_CHARS) throw new Error(`table key ${file}: ${text.length} characters, at least ${MIN_TABLE_KEY_CHARS} are needed`);
  return Buffer.from(text, 'utf8');
}

/** ZooKeeper's digest id for these credentials (DigestAuthenticationProvider: user:base64(sha1(user:password))). */
export function digestId(c: ZkCredentials): string {
  return `${c.user}:${createHash('sha1').update(`${c.user}:${c.password}`, 'utf8').digest('base64')}`;
}

export function secretPaths(config: HaConfig, stateDir: string): { credentials: string; tableKey: string } {
  return {
    credentials: path.resolve(stateDir, config.zkCredentialsFile),
    tableKey: path.resolve(stateDir, config.tableKeyFile),
  };
}

export async function loadHaSecrets(config: HaConfig, stateDir: string): Promise<HaSecrets> {
  const p = secretPaths(config, stateDir);
  const credHint = `create it on one director with \`umask 077; echo "director:$(head -c 24 /dev/urandom | base64)" > ${p.credentials}\` and copy it to the others`;
  const zk = parseCredentials(await readSecretFile(p.credentials, 'ZooKeeper credentials', credHint), p.credentials);
  const tableKey = parseTableKey(await readSecretFile(p.tableKey, 'table key'), p.tableKey);
  return { zk, tableKey };
}
