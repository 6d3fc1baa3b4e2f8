/**
 * The OCI source labels from git: HEAD's commit, "-dirty" after it when tracked files changed since
 * (as `git describe --dirty` says it; untracked files do not count), the remote without credentials.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitSourceLabels } from '../../src/project/git-info.js';

describe('source labels from git', () => {
  const root = mkdtempSync(join(tmpdir(), 'helmet-git-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example', ...args], { cwd: root, encoding: 'utf8' }).trim();

  it('names HEAD when the tree is clean, HEAD-dirty when a tracked file changed; untracked files do not count', async () => {
    git('init', '-q');
    git('remote', 'add', 'origin', 'https://ci:secret@git.example/ml/helmet.git');
    writeFileSync(join(root, 'train.py'), 'print(1)\n');
    git('add', 'train.py');
    git('commit', '-q', '-m', 'first');
    const head = git('rev-parse', 'HEAD');
    writeFileSync(join(root, 'notes.txt'), 'untracked\n');
    expect(await gitSourceLabels(root)).toEqual({
      'org.opencontainers.image.revision': head,
      'org.opencontainers.image.source': 'https://git.example/ml/helmet.git',
    });
    writeFileSync(join(root, 'train.py'), 'print(2)\n');
    expect((await gitSourceLabels(root))['org.opencontainers.image.revision']).toBe(`${head}-dirty`);
  });

  it('outside a git checkout: no labels', async () => {
    const plain = mkdtempSync(join(tmpdir(), 'helmet-nogit-'));
    try {
      expect(await gitSourceLabels(plain)).toEqual({});
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});
