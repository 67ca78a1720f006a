#!/usr/bin/env node
// `npm test`: every suite, in order of cost — type check, lint (boundaries and import cycles), unit tests on the
// host, kernel tests inside the lab kernel, end-to-end tests in Chromium
// against the lab. Ends with one plain "N passed, N failed, N skipped" line.
// Run as root on a fresh Debian machine it first installs what the chosen
// suites need (scripts/install.mjs): npm ci, and the Debian packages.
//   npm test [-- types lint unit kernel lab-start e2e e2e-ha]
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_SETS, ensureDebianPackages, ensureNodeModules } from './install.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];
const failedTests = [];
// tests that failed once and passed on their retry (kernel, lab and e2e suites retry once)
const flakyTests = [];

function flakyNames(name, text) {
  // vitest: "FLAKY path > test (passed on retry 1)" (scripts/vitest-flaky-reporter.mjs);
  // Playwright: the lines indented under "  N flaky"
  for (const m of text.matchAll(/^FLAKY (.*\S)/gm)) flakyTests.push(`${name}: ${m[1].slice(0, 200)}`);
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /^\s*\d+ flaky\s*$/.test(l));
  if (at >= 0) {
    for (const l of lines.slice(at + 1)) {
      if (!/^\s{4,}\S/.test(l)) break;
      flakyTests.push(`${name}: ${l.trim().replace(/\s*─+$/, '').slice(0, 200)}`);
    }
  }
}

// the names of failed tests, so that the closing lines (all a CI log may keep) say which
function failedNames(name, text) {
  const seen = new Set();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    // vitest: " FAIL  path > suite > test"; Playwright list: "  ✘  3 e2e/x.spec.ts:12:3 › test"
    const m = line.match(/^\s*(?:FAIL|✘)\s+(.*\S)/);
    if (!m || seen.has(m[1])) return;
    seen.add(m[1]);
    // and the first error line under it, when the report has one
    const why = lines.slice(i + 1, i + 8).find((l) => /Error|expected/.test(l))?.trim();
    failedTests.push(`${name}: ${m[1].slice(0, 200)}${why ? `\n      ${why.slice(0, 200)}` : ''}`);
  });
}

// parse: reads the suite's counts from its output; tool: the command is one test, passed when it exits 0
function run(name, cmd, args, { parse, tool } = {}) {
  return new Promise((resolve) => {
    process.stdout.write(`\n=== ${name}: ${cmd} ${args.join(' ')}\n`);
    const started = Date.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
    let out = '';
    // vitest on the host writes its failure report to stderr: both are kept for the closing list of failed tests
    let err = '';
    child.stdout.on('data', (b) => { out += b; process.stdout.write(b); });
    child.stderr.on('data', (b) => { if (err.length < 4_000_000) err += b; process.stderr.write(b); });
    child.on('close', (code) => {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      const counts = parse ? parse(stripAnsi(out)) : tool ? { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 } : null;
      if (counts) for (const k of Object.keys(totals)) totals[k] += counts[k];
      flakyNames(name, stripAnsi(out));
      if (code !== 0) {
        failedNames(name, stripAnsi(`${out}\n${err}`));
        failures.push(`${name} (exit ${code})`);
        if (!counts || counts.failed === 0) totals.failed += 1; // a crash is a failure even if no test said so
      }
      process.stdout.write(`=== ${name}: exit ${code} in ${secs} s${counts ? ` (${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped)` : ''}\n`);
      resolve(code);
    });
  });
}

// vitest's closing summary: "Tests  2 failed | 40 passed | 3 skipped (45)"
function parseVitest(text) {
  const line = text.split('\n').reverse().find((l) => /^\s*Tests\s+\d/.test(l));
  if (!line) return null;
  const n = (word) => Number(line.match(new RegExp(`(\\d+) ${word}`))?.[1] ?? 0);
  return { passed: n('passed'), failed: n('failed'), skipped: n('skipped') + n('todo') };
}

// Playwright's list reporter: "  12 passed (30s)", "  1 failed", "  2 skipped"
function parsePlaywright(text) {
  const n = (word) => Number(text.match(new RegExp(`^\\s*(\\d+) ${word}`, 'm'))?.[1] ?? 0);
  // a flaky test passed on its retry: it counts as passed, and is named in the closing lines
  const c = { passed: n('passed') + n('flaky'), failed: n('failed'), skipped: n('skipped') };
  return c.passed + c.failed + c.skipped > 0 ? c : null;
}

// every tree with code, bench/ included (dynamic imports are allowed there, cycles are not)
const CRUISED = ['server', 'lib', 'components', 'app', 'console', 'e2e', 'bench', 'scripts', 'bin'];

const only = process.argv.slice(2);
const want = (s) => only.length === 0 || only.includes(s);

// what each suite needs besides node_modules; gcc always, as CI hosts differ in whether the lab needs it
const { lab, xstateShim, ha, browser, metrics } = PACKAGE_SETS;
const needs = { kernel: [...lab, ...xstateShim, ...ha], 'lab-start': [...lab, ...xstateShim, ...ha, ...metrics], e2e: [...lab, ...xstateShim, ...browser], 'e2e-ha': [...lab, ...xstateShim, ...ha, ...browser] };
if (!ensureNodeModules(root, { who: 'npm test' })) process.exit(1);
const packages = Object.entries(needs).filter(([suite]) => want(suite)).flatMap(([, p]) => p);
// without root (or off Debian) it says what is missing and the suites that need it skip or fail naming it
if (packages.length > 0) ensureDebianPackages(packages, { who: 'npm test' });

if (want('types')) await run('types', 'npx', ['tsc', '--noEmit', '-p', '.']);
// each tool counts as one test; its output names every violation (file and line, or the modules of a cycle)
if (want('lint')) {
  await run('lint: eslint', 'npx', ['eslint', '.'], { tool: true });
  await run('lint: depcruise', 'npx', ['depcruise', '--config', '.dependency-cruiser.cjs', '--output-type', 'err', ...CRUISED], { tool: true });
}
if (want('unit')) await run('unit', 'npx', ['vitest', 'run', '--config', 'vitest.config.ts'], { parse: parseVitest });
// npm run package and the unpacked package run from / (deploy/package.test.ts); its .deb is what the
// kernel tests' packaged `director list` check unpacks
if (want('package')) await run('package', 'npx', ['vitest', 'run', '--config', 'vitest.package.config.ts'], { parse: parseVitest });
if (want('kernel')) await run('kernel', 'npx', ['tsx', 'server/lab/cli.ts', 'test'], { parse: parseVitest });
// npm start -- --lab end to end (boots its own lab kernel, needs root for the tap link)
if (want('lab-start')) await run('lab-start', 'npx', ['vitest', 'run', '--config', 'vitest.lab-start.config.ts'], { parse: parseVitest });
if (want('e2e') && existsSync('e2e') && readdirSync('e2e').some((f) => f.endsWith('.spec.ts'))) {
  await run('e2e', 'npx', ['playwright', 'test', '--reporter=list'], { parse: parsePlaywright });
}
// the HA panel against the two-director lab (its own lab boot: one lab per machine at a time)
if (want('e2e-ha') && existsSync('playwright.ha.config.ts')) {
  await run('e2e-ha', 'npx', ['playwright', 'test', '-c', 'playwright.ha.config.ts', '--reporter=list'], { parse: parsePlaywright });
}

process.stdout.write(`\n${flakyTests.slice(0, 30).map((t) => `  flaky (passed on its retry): ${t}\n`).join('')}`);
process.stdout.write(`${failedTests.slice(0, 30).map((t) => `  failed: ${t}\n`).join('')}`);
process.stdout.write(`${failures.length ? `FAILED: ${failures.join(', ')}\n` : ''}`);
process.stdout.write(`${totals.passed} passed${flakyTests.length ? ` (${flakyTests.length} on a retry)` : ''}, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(failures.length ? 1 : 0);
