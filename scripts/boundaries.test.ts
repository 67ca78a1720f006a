/**
 * The boundary rules of eslint.config.mjs and .dependency-cruiser.cjs catch
 * what they are meant to: each case lints a small file placed in the tree it
 * breaks the rule of (files that exist only in memory), or cruises a folder
 * with a cycle made of type imports alone.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const eslint = new ESLint({ cwd: root });

async function problems(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (r?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('ESLint boundaries', () => {
  it('the browser may import server code as types only', async () => {
    const value = await problems('components/x.tsx', "import { appRouter } from '@/server/api/router';\nexport const r = appRouter;\n");
    expect(value).toEqual([expect.stringMatching(/^@typescript-eslint\/no-restricted-imports: .*only as types/)]);
    expect(await problems('app/x/page.tsx', "import { Auth } from '../../server/api/auth';\nexport const a = Auth;\n"))
      .toEqual([expect.stringMatching(/^@typescript-eslint\/no-restricted-imports:/)]);
    expect(await problems('components/x.tsx', "import type { AppRouter } from '@/server/api/router';\nexport type R = AppRouter;\n")).toEqual([]);
  }, 60_000);

  it('lib/ imports nothing from server/, components/, app/ or console/, not even types', async () => {
    for (const from of ['../server/api/auth', '@/components/format', '../console/config']) {
      expect(await problems('lib/x.ts', `import type { X } from '${from}';\nexport type Y = X;\n`), from)
        .toEqual([expect.stringMatching(/^import-x\/no-restricted-paths: .*lib\/ is pure/)]);
    }
    expect(await problems('lib/x.ts', "import { formatHostPort } from './net/ip';\nexport const f = formatHostPort;\n")).toEqual([]);
  }, 60_000);

  it('console/ imports nothing from server/ (its tests may start a real agent)', async () => {
    expect(await problems('console/x.ts', "import { Auth } from '../server/api/auth';\nexport const a = Auth;\n"))
      .toEqual([expect.stringMatching(/^import-x\/no-restricted-paths: .*The console server/)]);
    expect(await problems('console/x.test.ts', "import { Auth } from '../server/api/auth';\nexport const a = Auth;\n")).toEqual([]);
  }, 60_000);

  it('no dynamic import() outside bench/', async () => {
    const code = "export const load = () => import('./api/auth');\n";
    expect(await problems('server/x.ts', code)).toEqual([expect.stringMatching(/^no-restricted-syntax: No dynamic import\(\)/)]);
    expect(await problems('bench/x.ts', code.replace('./api/auth', '../server/api/auth'))).toEqual([]);
  }, 60_000);
});

describe('dependency-cruiser: no import cycle, type imports included', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'director-cycles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cruise(files: Record<string, string>): Promise<{ ok: boolean; out: string }> {
    const d = mkdtempSync(path.join(dir, 'case-'));
    mkdirSync(path.join(d, 'src'));
    writeFileSync(path.join(d, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'esnext', moduleResolution: 'bundler', strict: true } }));
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(d, 'src', name), text);
    const bin = path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
    const args = [bin, '--config', path.join(root, '.dependency-cruiser.cjs'), '--output-type', 'err', 'src'];
    return promisify(execFile)(process.execPath, args, { cwd: d }).then(
      (r) => ({ ok: true, out: r.stdout }),
      (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
  }

  it('reports a cycle made only of type imports, naming both modules', async () => {
    const r = await cruise({
      'a.ts': "import type { B } from './b';\nexport interface A { b?: B }\n",
      'b.ts': "import type { A } from './a';\nexport interface B { a?: A }\n",
    });
    expect(r.ok).toBe(false);
    expect(r.out).toMatch(/no-circular: src\/(a|b)\.ts/);
    expect(r.out).toContain('src/a.ts');
    expect(r.out).toContain('src/b.ts');
  }, 60_000);

  it('passes the same modules once the shared type moves down', async () => {
    const r = await cruise({
      'shared.ts': 'export interface A { b?: B }\nexport interface B { a?: A }\n',
      'a.ts': "import type { A } from './shared';\nexport type AA = A;\n",
      'b.ts': "import type { B } from './shared';\nexport type BB = B;\n",
    });
    expect(r).toEqual({ ok: true, out: expect.stringContaining('no dependency violations') });
  }, 60_000);
});
