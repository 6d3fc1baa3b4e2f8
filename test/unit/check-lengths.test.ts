/** `make lint`'s length check: a function over 60 lines or a file over 350 fails it, naming file, line and size. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useProjects } from '../support/project.js';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'check-lengths.mjs');

function check(folder: string): { code: number; stderr: string } {
  try {
    execFileSync('node', [SCRIPT, folder], { cwd: folder, stdio: 'pipe' });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { status: number; stderr: Buffer };
    return { code: err.status, stderr: err.stderr.toString() };
  }
}

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
