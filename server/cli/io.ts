export interface CliIo {
  stdout(s: string): void;
  stderr(s: string): void;
  readStdin(): Promise<string>;
}

export const processIo: CliIo = {
  stdout: (s) => { process.stdout.write(s); },
  stderr: (s) => { process.stderr.write(s); },
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

/** `io.stdout` for a printer that hands over ASCII text as bytes (lib/proc/ip-vs-listing.ts), a piece at a time. */
export function stdoutBytes(io: CliIo): (bytes: Uint8Array) => void {
  return (bytes) => io.stdout(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
}
