/** For tests: the CLI in this process, its output captured, no standard input. */
import { runCli } from './main';

export async function director(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const code = await runCli(args, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, readStdin: async () => '' });
  return { code, out, err };
}
