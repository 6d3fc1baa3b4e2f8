import { chmodSync, cpSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readBuildContext } from '../../src/context/build-context.js';
import { inputRecord, inputTag } from '../../src/context/input-digest.js';
import { makeProject, writeTree } from '../support/project.js';

const inputDigestOf = (inputs: Parameters<typeof inputRecord>[0]): string => inputRecord(inputs).inputDigest;

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function project(files: Record<string, string>) {
  const p = makeProject(files);
  cleanups.push(p.cleanup);
  return p.root;
}

function digestOf(root: string, args: Record<string, string> = {}, dockerfile = 'Dockerfile'): string {
  return inputDigestOf({ context: readBuildContext(join(root, 'ctx'), join(root, dockerfile)), buildArgs: args });
}

const FILES = { Dockerfile: 'FROM scratch\n', 'ctx/a.py': 'print(1)\n', 'ctx/sub/b.txt': 'b\n', 'ctx/sub/c.txt': 'c\n' };

describe('input digest', () => {
  it('is independent of mtime', () => {
    const root = project(FILES);
    const before = digestOf(root);
    utimesSync(join(root, 'ctx/a.py'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(digestOf(root)).toBe(before);
  });

  it('is independent of the order files were created in (walk order)', () => {
    const a = project({ Dockerfile: FILES.Dockerfile, 'ctx/sub/c.txt': 'c\n', 'ctx/sub/b.txt': 'b\n', 'ctx/a.py': 'print(1)\n' });
    const b = project(FILES);
    expect(digestOf(a)).toBe(digestOf(b));
  });

  it('is independent of where the project is checked out', () => {
    const a = project(FILES);
    const b = project({});
    cpSync(a, join(b, 'elsewhere'), { recursive: true });
    expect(digestOf(join(b, 'elsewhere'))).toBe(digestOf(a));
  });

  it('changes with one byte of content', () => {
    const root = project(FILES);
    const before = digestOf(root);
    writeFileSync(join(root, 'ctx/sub/b.txt'), 'c\n');
    expect(digestOf(root)).not.toBe(before);
  });

  it('changes with the executable bit, not with other mode bits', () => {
    const root = project(FILES);
    const before = digestOf(root);
    chmodSync(join(root, 'ctx/a.py'), 0o664);
    expect(digestOf(root)).toBe(before);
    chmodSync(join(root, 'ctx/a.py'), 0o755);
    expect(digestOf(root)).not.toBe(before);
  });

  it('changes with a build arg, the Dockerfile, a renamed file and a new empty folder', () => {
    const root = project(FILES);
    const before = digestOf(root, { A: '1' });
    expect(digestOf(root, { A: '2' })).not.toBe(before);
    expect(digestOf(root, { A: '1', B: '' })).not.toBe(before);
    expect(digestOf(root, { A: '1' })).toBe(before);
    writeFileSync(join(root, 'Dockerfile'), 'FROM scratch \n');
    const afterDockerfile = digestOf(root, { A: '1' });
    expect(afterDockerfile).not.toBe(before);
    writeTree(root, { 'ctx/empty/.keep': '' });
    expect(digestOf(root, { A: '1' })).not.toBe(afterDockerfile);
  });

  it('ignores files excluded by .dockerignore', () => {
    const root = project({ ...FILES, 'ctx/.dockerignore': '*.log\n' });
    const before = digestOf(root);
    writeTree(root, { 'ctx/debug.log': 'noise' });
    expect(digestOf(root)).toBe(before);
  });

  it('names the content tag after the first 16 hex digits', () => {
    expect(inputTag('sha256:0123456789abcdef0123456789abcdef')).toBe('in-0123456789abcdef');
  });
});
