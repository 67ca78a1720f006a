/**
 * What `npm start` and `npm test` install on a fresh Debian machine when they
 * run as root: Debian packages with apt-get, node modules with npm ci. Plain
 * JavaScript, because on a fresh clone nothing else (tsx, node_modules) is
 * there yet. Each says what it installs and why before doing it; without
 * root it prints the command to run instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Every Debian package either command may install, with what it is for (printed when installing it). */
export const DEBIAN_PACKAGES = {
  'user-mode-linux': 'the lab kernel: Linux with IPVS as an ordinary process',
  kmod: 'modprobe, which loads IPVS into the lab kernel',
  ipvsadm: 'ipvsadm, the reference the kernel tests hold Director against',
  iproute2: 'ip, for the lab\'s tap link and network namespaces',
  'iputils-arping': 'arping, the doctor\'s ARP probe (who answers for a VIP), run in the lab kernel',
  gcc: 'builds the lab kernel\'s FPU-state preload library (hosts with AVX-512 or AMX)',
  'libc6-dev': 'C headers for that library',
  keepalived: 'the two-director HA lab (VRRP)',
  zookeeper: 'the two-director HA lab (leases)',
  'dnsmasq-base': 'the master-master HA lab (the DNS server in front of the directors)',
  chromium: 'the browser of the end-to-end tests',
  prometheus: 'the metrics lab test: Debian\'s Prometheus scrapes the agents and evaluates the Grafana dashboard\'s queries',
};

/** Packages by what needs them. */
export const PACKAGE_SETS = {
  lab: ['user-mode-linux', 'kmod', 'ipvsadm', 'iproute2', 'iputils-arping'],
  xstateShim: ['gcc', 'libc6-dev'],
  ha: ['keepalived', 'zookeeper', 'dnsmasq-base'],
  browser: ['chromium'],
  metrics: ['prometheus'],
};

const isRoot = () => process.getuid?.() === 0;

/**
 * The names among `names` that dpkg does not list as installed; null when
 * this is not a Debian system (no dpkg-query), where nothing is installed.
 */
export function missingDebianPackages(names) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\\n', ...names], { encoding: 'utf8' });
  if (r.error) return null;
  const installed = new Set(r.stdout.split('\n').filter((l) => l.endsWith(' install ok installed')).map((l) => l.split(' ')[0]));
  return names.filter((n) => !installed.has(n));
}

function aptListsPresent() {
  try {
    return readdirSync('/var/lib/apt/lists').some((f) => f.includes('_Packages'));
  } catch {
    return false;
  }
}

function apt(args) {
  return spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status;
}

/**
 * Installs the missing ones among `names` (as root), saying which and why.
 * `who` prefixes each line ("npm start"). Returns false when some are
 * still missing afterwards (without root it prints the command to run
 * instead); off Debian it names them and returns true.
 */
export function ensureDebianPackages(names, { who, log = (s) => process.stdout.write(`${s}\n`) }) {
  const wanted = [...new Set(names)];
  const missing = missingDebianPackages(wanted);
  if (missing === null) {
    // whatever then lacks says so itself (the lab runner names each missing program)
    log(`${who}: not a Debian system (no dpkg-query): make sure the equivalents of these are installed: ${wanted.join(' ')}`);
    return true;
  }
  if (missing.length === 0) return true;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!isRoot()) {
    log(`${who}: missing Debian packages: ${missing.join(' ')}; as root run: apt-get update && ${command}`);
    return false;
  }
  const width = Math.max(...missing.map((m) => m.length));
  log(`${who}: installing ${missing.length} Debian package${missing.length > 1 ? 's' : ''} with apt-get:`);
  for (const m of missing) log(`  ${m.padEnd(width)}  ${DEBIAN_PACKAGES[m] ?? ''}`);
  const args = ['install', '-y', '-q', '--no-install-recommends', ...missing];
  // a fresh image has no package lists; an old one may name versions the mirror dropped
  if (!aptListsPresent()) {
    log(`${who}: apt-get update (no package lists yet)`);
    apt(['update', '-q']);
  }
  if (apt(args) !== 0) {
    log(`${who}: apt-get install failed; updating the package lists and trying once more`);
    if (apt(['update', '-q']) !== 0 || apt(args) !== 0) {
      log(`${who}: could not install ${missing.join(' ')}; try by hand: apt-get update && ${command}`);
      return false;
    }
  }
  return true;
}

/** True when `npm ci` has run in `root` (node_modules/.package-lock.json is npm's record of it). */
export function nodeModulesInstalled(root) {
  return existsSync(path.join(root, 'node_modules', '.package-lock.json'));
}

/**
 * Runs `npm ci` in `root` when node_modules is missing, saying so. Never
 * touches an existing node_modules (it may be shared, or the developer's).
 * Returns false when it is missing and could not be installed.
 */
export function ensureNodeModules(root, { who, log = (s) => process.stdout.write(`${s}\n`) }) {
  if (nodeModulesInstalled(root)) return true;
  log(`${who}: installing node modules: npm ci (the versions pinned in package-lock.json)`);
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    log(`${who}: npm ci failed (${r.error ? r.error.message : `exit ${r.status}`})`);
    return false;
  }
  return true;
}

// `node scripts/install.mjs`: everything any suite of `npm test` may need, at once (.ci/run's first step)
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  const ok = ensureDebianPackages(Object.keys(DEBIAN_PACKAGES), { who: 'install' }) && ensureNodeModules(root, { who: 'install' });
  process.exit(ok ? 0 : 1);
}
