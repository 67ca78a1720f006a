#!/usr/bin/env node
/**
 * `npm run package`: the Debian package dist/director_<version>_<arch>.deb and a
 * tarball of the same tree, dist/director-<version>-<arch>.tar.gz, for hosts
 * without dpkg. The tree:
 *   /usr/bin/director                 launcher (Debian's /usr/bin/node)
 *   /usr/lib/director/cli/            the agent and CLI, bundled by esbuild
 *   /usr/lib/director/node_modules/   netlink (native addon, this arch's prebuild) and node-gyp-build
 *   /usr/lib/director/console/        Next's standalone server + static files + the console server (console.mjs)
 *   /usr/lib/systemd/system/          director-agent.service, director-checks.service, director-console.service
 *   /usr/share/director/              ha.conf (HA drop-in), setup-host.sh (users and folders)
 *   /etc/director/                    agent.toml, console.toml (conffiles, all commented)
 * The package is built for this machine's architecture: netlink's addon is native code.
 *
 * The console is built in a copy of the sources (dist/package-build, removed at the end) whose
 * node_modules is a hard-linked copy: Turbopack refuses a node_modules symlinked from outside the
 * project, and the developer's own .next stays as it is. Its output is kept in
 * dist/package-next-cache and reused while the sources are the same (DIRECTOR_PACKAGE_REBUILD=1: build anyway).
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { assembleConsole } from './console-runtime.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
const started = Date.now();
const step = (what) => process.stdout.write(`package: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
  return r;
}

// Debian's architecture name for this machine; the netlink prebuild for it
const debArch = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout?.trim()
  || { x64: 'amd64', arm64: 'arm64', arm: 'armhf', ia32: 'i386' }[process.arch];
const nodeArch = { amd64: 'x64', arm64: 'arm64', armhf: 'arm', i386: 'ia32' }[debArch];
if (!nodeArch) throw new Error(`package: no netlink prebuild for architecture '${debArch}'`);

const buildDir = path.join(dist, 'package-build');
const tree = path.join(dist, 'package-root');
const lib = path.join(tree, 'usr/lib/director');
rmSync(tree, { recursive: true, force: true });
mkdirSync(lib, { recursive: true });

// 1. the console: `next build` (standalone) in a copy of the sources
step('copying sources for the console build');
rmSync(buildDir, { recursive: true, force: true });
mkdirSync(buildDir, { recursive: true });
// what the Next build compiles and type-checks (tsconfig's files, the app's imports)
for (const f of ['app', 'components', 'lib', 'console', 'server', 'scripts', 'public', 'next.config.js', 'postcss.config.mjs', 'package.json', 'tsconfig.json']) {
  const src = path.join(root, f);
  if (existsSync(src)) cpSync(src, path.join(buildDir, f), { recursive: true, filter: (p) => !/\.test\.tsx?$/.test(p) && !p.endsWith('/package.mjs') });
}
const modules = realpathSync(path.join(root, 'node_modules'));
if (spawnSync('cp', ['-al', modules, path.join(buildDir, 'node_modules')]).status !== 0) {
  cpSync(modules, path.join(buildDir, 'node_modules'), { recursive: true, verbatimSymlinks: true }); // another file system
}
// The Next build is most of the time (1-3 min): reuse the last one when its inputs are the same
// (the sources copied above, the locked dependencies, this node).
const hash = createHash('sha256').update(`${process.version}\n`).update(readFileSync(path.join(root, 'package-lock.json')));
for (const f of readdirSync(buildDir, { recursive: true }).map(String).filter((f) => !f.startsWith('node_modules')).sort()) {
  const p = path.join(buildDir, f);
  if (statSync(p).isFile()) hash.update(`${f}\n`).update(readFileSync(p));
}
const inputs = hash.digest('hex');
const cache = path.join(dist, 'package-next-cache');
if (existsSync(path.join(cache, 'inputs')) && readFileSync(path.join(cache, 'inputs'), 'utf8') === inputs && process.env.DIRECTOR_PACKAGE_REBUILD !== '1') {
  step('next build: unchanged sources, reusing the last build');
} else {
  step('next build (standalone)');
  const b = spawnSync(process.execPath, [path.join(buildDir, 'node_modules/next/dist/bin/next'), 'build'], {
    cwd: buildDir, env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }, encoding: 'utf8', maxBuffer: 64 << 20,
  });
  if (b.status !== 0) throw new Error(`next build failed (exit ${b.status}):\n${`${b.stdout}\n${b.stderr}`.trim().split('\n').slice(-30).join('\n')}`);
  rmSync(cache, { recursive: true, force: true });
  cpSync(path.join(buildDir, '.next/standalone'), path.join(cache, 'standalone'), { recursive: true, verbatimSymlinks: true });
  cpSync(path.join(buildDir, '.next/static'), path.join(cache, 'static'), { recursive: true });
  writeFileSync(path.join(cache, 'inputs'), inputs);
}
// the console's folder, assembled as npm start assembles it for its unprivileged user
// (scripts/console-runtime.mjs: modes 0644/0755, links resolved, console/server.ts bundled, console.mjs)
step('assembling the console');
if (!existsSync(path.join(buildDir, '.next/standalone'))) {
  cpSync(path.join(cache, 'standalone'), path.join(buildDir, '.next/standalone'), { recursive: true, verbatimSymlinks: true });
  cpSync(path.join(cache, 'static'), path.join(buildDir, '.next/static'), { recursive: true });
}
const consoleDir = path.join(lib, 'console');
await assembleConsole({ root: buildDir, dest: consoleDir });
// Next's own server.js would serve the app without the console's sign-in: not shipped
rmSync(path.join(consoleDir, 'server.js'), { force: true });

// 2. the agent and the CLI
step('bundling the agent and CLI');
run(process.execPath, [path.join(root, 'scripts/build-cli.mjs'), '--outdir', path.join(lib, 'cli')], { stdio: ['ignore', 'ignore', 'inherit'] });
for (const f of readdirSync(path.join(lib, 'cli'), { recursive: true })) if (String(f).endsWith('.map')) rmSync(path.join(lib, 'cli', String(f)));
// netlink, external to the bundle: its JavaScript, its package.json and this architecture's addon only
const nl = path.join(lib, 'node_modules/netlink');
cpSync(path.join(modules, 'netlink/dist'), path.join(nl, 'dist'), { recursive: true, filter: (p) => !p.endsWith('.d.ts') && !p.endsWith('.map') });
cpSync(path.join(modules, 'netlink/prebuilds', `linux-${nodeArch}`), path.join(nl, 'prebuilds', `linux-${nodeArch}`), { recursive: true });
for (const f of ['package.json', 'LICENSE']) copyFileSync(path.join(modules, 'netlink', f), path.join(nl, f));
cpSync(path.join(modules, 'node-gyp-build'), path.join(lib, 'node_modules/node-gyp-build'), { recursive: true });
writeFileSync(path.join(lib, 'VERSION'), `${version}\n`);

// 3. launcher, units, configuration, docs
step('launcher, units, configuration');
const put = (rel, text, mode = 0o644) => {
  const p = path.join(tree, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, text);
  chmodSync(p, mode);
};
const deploy = (f) => readFileSync(path.join(root, 'deploy', f), 'utf8');
// --no-memory-reducer: see bin/director.mjs (an extension-less file is CommonJS, hence import())
put('usr/bin/director', `#!/usr/bin/node --no-memory-reducer
// Director ${version}: the CLI and the agent (/usr/lib/director/cli)
import('/usr/lib/director/cli/director.mjs')
  .then(({ main }) => main(process.argv.slice(2)))
  .then((code) => { process.exitCode = code; });
`, 0o755);
put('usr/lib/systemd/system/director-agent.service', deploy('director-agent.service'));
put('usr/lib/systemd/system/director-console.service', deploy('director-console.service'));
put('usr/lib/systemd/system/director-checks.service', deploy('director-checks.service'));
mkdirSync(path.join(tree, 'usr/lib/systemd/system/director-agent.service.d'), { recursive: true });
put('usr/share/director/ha.conf', deploy('ha.conf'));
put('usr/share/director/setup-host.sh', deploy('setup-host.sh'), 0o755);
put('etc/director/agent.toml', deploy('agent.toml'));
put('etc/director/console.toml', deploy('console.toml'));
put('usr/share/doc/director/copyright', `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: director
Files: *
License: see the project's repository; bundled dependencies keep their own licenses
 (usr/lib/director/console/node_modules/*/LICENSE, usr/lib/director/node_modules/*/LICENSE)
`);

// 4. the tarball (the tree as it is, for hosts without dpkg), then the Debian package
mkdirSync(dist, { recursive: true });
const tarball = path.join(dist, `director-${version}-${debArch}.tar.gz`);
step('tarball');
run('tar', ['--owner=0', '--group=0', '--numeric-owner', '--sort=name', '-czf', tarball, '-C', tree, 'etc', 'usr']);

step('Debian package');
const size = Math.ceil(Number(spawnSync('du', ['-sk', '--apparent-size', tree], { encoding: 'utf8' }).stdout.split('\t')[0]));
const debian = path.join(tree, 'DEBIAN');
put('DEBIAN/control', `Package: director
Version: ${version}
Architecture: ${debArch}
Maintainer: Director maintainers <director@localhost>
Installed-Size: ${size}
Depends: nodejs (>= 20), ipvsadm, iputils-arping
Recommends: keepalived
Suggests: zookeeper
Section: net
Priority: optional
Homepage: https://github.com/
Description: web console for Linux Virtual Server (IPVS)
 An agent on each director (the only part holding CAP_NET_ADMIN) and an
 unprivileged web console that shows and edits the IPVS table, with health
 checks and high availability through keepalived and ZooKeeper.
`);
put('DEBIAN/conffiles', '/etc/director/agent.toml\n/etc/director/console.toml\n');
for (const s of ['postinst', 'prerm', 'postrm']) put(`DEBIAN/${s}`, deploy(`debian/${s}`), 0o755);
const deb = path.join(dist, `director_${version}_${debArch}.deb`);
run('dpkg-deb', ['--build', '--root-owner-group', '-Zgzip', '-z6', tree, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
rmSync(debian, { recursive: true, force: true });
rmSync(buildDir, { recursive: true, force: true });
const mb = (p) => (statSync(p).size / 1e6).toFixed(1);
step(`wrote ${path.relative(root, deb)} (${mb(deb)} MB) and ${path.relative(root, tarball)} (${mb(tarball)} MB)`);
