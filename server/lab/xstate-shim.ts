/**
 * Builds (once per shim source) the LD_PRELOAD library that lets Debian's
 * user-mode Linux 6.1 run on hosts whose XSAVE area is larger than UML's
 * fixed FPU buffer (AVX-512, AMX): see uml-xstate-shim.c for why. Without it
 * the guest's init dies at boot with "ptrace set fp regs failed, errno = 14".
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'uml-xstate-shim.c');

/** True when the host CPU saves more FPU state than UML's 832-byte buffer holds. */
export function hostNeedsXstateShim(cpuinfo = readCpuinfo()): boolean {
  const flags = cpuinfo.match(/^flags\s*:(.*)$/m)?.[1]?.split(/\s+/) ?? [];
  return flags.some((f) => f.startsWith('avx512') || f.startsWith('amx'));
}

function readCpuinfo(): string {
  try { return readFileSync('/proc/cpuinfo', 'utf8'); } catch { return ''; }
}

export class ShimBuildError extends Error {
  override readonly name = 'ShimBuildError';
}

/**
 * Path of the compiled shim, building it into `cacheDir` if needed; null when
 * the host does not need it. Throws ShimBuildError (saying what to install)
 * when it is needed and cannot be built.
 */
export function xstateShim(cacheDir = path.join(tmpdir(), 'director-uml-shim')): string | null {
  if (process.env.DIRECTOR_UML_SHIM === '0' || !hostNeedsXstateShim()) return null;
  const source = readFileSync(SOURCE);
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const lib = path.join(cacheDir, `uml-xstate-${digest}.so`);
  if (existsSync(lib)) return lib;
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${lib}.${process.pid}.tmp`;
  const r = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', tmp, SOURCE, '-ldl'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new ShimBuildError(
      'this CPU has AVX-512/AMX, whose FPU state user-mode Linux 6.1 cannot restore without the small ' +
        `preload library server/lab/uml-xstate-shim.c, and it could not be compiled: ${r.error?.message ?? r.stderr.trim()}.\n` +
        'Install a C compiler with: apt-get install -y gcc libc6-dev',
    );
  }
  // another lab starting at the same time may have built it too: either copy is the same
  renameSync(tmp, lib);
  return lib;
}
