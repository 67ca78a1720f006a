import { fstatSync } from 'node:fs';

export interface CliIo {
  stdout(s: string): void;
  /** ASCII text as bytes, which the caller overwrites once this returns; without it stdoutBytes() goes through stdout() */
  stdoutBytes?(bytes: Uint8Array): void;
  stderr(s: string): void;
  readStdin(): Promise<string>;
}

/**
 * Whether process.stdout is written before write() returns: to a file or a character device (a terminal,
 * /dev/null) it is on Linux; a pipe or socket may keep the bytes for later.
 */
let stdoutSync: boolean | undefined;
function stdoutIsSync(): boolean {
  if (stdoutSync === undefined) {
    try {
      const st = fstatSync(1);
      stdoutSync = process.platform === 'linux' && (st.isFile() || st.isCharacterDevice());
    } catch {
      stdoutSync = false;
    }
  }
  return stdoutSync;
}

export const processIo: CliIo = {
  stdout: (s) => { process.stdout.write(s); },
  // a copy where the stream may still hold the bytes when this returns
  stdoutBytes: (bytes) => { process.stdout.write(stdoutIsSync() ? bytes : Buffer.from(bytes)); },
  stderr: (s) => { process.stderr.write(s); },
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

/**
 * Standard output for a printer that hands over ASCII text as bytes (lib/proc/ip-vs-listing.ts), a piece at
 * a time: written as bytes where the io can, which spares a string and its encoding per piece.
 */
export function stdoutBytes(io: CliIo): (bytes: Uint8Array) => void {
  if (io.stdoutBytes) return io.stdoutBytes.bind(io);
  return (bytes) => io.stdout(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
}
