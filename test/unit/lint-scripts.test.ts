/**
 * `make lint`'s own checks: a function over 60 lines or a file over 350 fails it, and so does
 * exported code no other file uses; each names the file and line.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useProjects } from '../support/project.js';

const SCRIPTS = join(import.meta.dirname, '..', '..', 'scripts');

function run(script: string, args: string[], cwd: string): { code: number; stderr: string } {
  try {
    execFileSync('node', [join(SCRIPTS, script), ...args], { cwd, stdio: 'pipe' });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { status: number; stderr: Buffer };
    return { code: err.status, stderr: err.stderr.toString() };
  }
}

const check = (folder: string) => run('check-lengths.mjs', [folder], folder);

describe('scripts/check-lengths.mjs', () => {
  const project = useProjects();
  const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');

  it('passes functions of 60 lines and files of 350', () => {
    const root = project({ 'a.ts': `export function fits(): void {\n${body(58)}\n}\n${'// filler\n'.repeat(350 - 60)}` });
    expect(check(root)).toEqual({ code: 0, stderr: '' });
  });

  it('fails a function of 61 lines and a file of 351, arrow functions and methods too', () => {
    const root = project({
      'long.ts': `export function tooLong(): void {\n${body(59)}\n}\n`,
      'arrow.ts': `export const arrow = () => {\n${body(59)}\n};\nclass K {\n  method(): void {\n${body(59)}\n  }\n}\n`,
      'big.ts': '// line\n'.repeat(351),
    });
    const r = check(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('long.ts:1: tooLong has 61 lines (at most 60)');
    expect(r.stderr).toContain('arrow.ts:1: arrow has 61 lines');
    expect(r.stderr).toContain('arrow.ts:63: method has 61 lines');
    expect(r.stderr).toContain('big.ts:1: file has 351 lines (at most 350)');
  });
});

describe('scripts/check-exports.mjs', () => {
  const project = useProjects();

  it('fails an exported function, constant or class no other file names; exported types and used exports pass', () => {
    const root = project({
      'src/a.ts':
        'export function used(): number {\n  return 1;\n}\nexport function forgotten(): number {\n  return 2;\n}\nexport const LIMIT = 3;\nexport interface Shape {\n  x: number;\n}\n',
      'src/b.ts': "import { used } from './a.js';\nexport const twice = used() * 2;\n",
      'test/b.test.ts': "import { twice } from '../src/b.js';\nconsole.log(twice);\n",
    });
    const r = run('check-exports.mjs', [join(root, 'src'), join(root, 'test')], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('src/a.ts:4: forgotten is exported, and no other file names it');
    expect(r.stderr).toContain('src/a.ts:7: LIMIT is exported, and no other file names it');
    expect(r.stderr).not.toMatch(/used is exported|twice is exported|Shape/);
  });
});
