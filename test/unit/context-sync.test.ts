import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readBuildContext } from '../../src/context/build-context.js';
import { createContextDirs, sortFsutil } from '../../src/context/context-sync.js';
import { decodePacket, encodePacket } from '../../src/engine/session/file-sync.js';
import { makeProject } from '../support/project.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const NO_FILTER = { includePatterns: [], excludePatterns: [], followPaths: [] };

function contextDirs(files: Record<string, string>) {
  const p = makeProject(files);
  cleanups.push(p.cleanup);
  const ctx = readBuildContext(join(p.root, 'app'), join(p.root, 'app/Dockerfile'));
  return { root: p.root, dirs: createContextDirs(ctx, 'Dockerfile') };
}

describe('FileSync folders of a context', () => {
  it('sorts as fsutil walks: depth first, names in byte order, a folder before what it holds', () => {
    const order = sortFsutil(['b', 'a.txt', 'ä', 'a-b', 'a/b', 'a'].map((path) => ({ path }))).map((e) => e.path);
    expect(order).toEqual(['a', 'a/b', 'a-b', 'a.txt', 'b', 'ä']);
  });

  it("applies the daemon's .dockerignore patterns (dropping the Dockerfile and .dockerignore they list) and sends the parents of re-included files", () => {
    const { dirs } = contextDirs({
      'app/.dockerignore': 'docs\n!docs/README.md\nDockerfile\n.dockerignore\n',
      'app/Dockerfile': 'FROM scratch\n',
      'app/docs/README.md': 'r',
      'app/docs/other.md': 'o',
      'app/src/main.py': 'print(1)\n',
    });
    const context = dirs.dir('context')!;
    const excludePatterns = ['docs', '!docs/README.md', 'Dockerfile', '.dockerignore'];
    const listed = context.list({ ...NO_FILTER, excludePatterns });
    expect(listed.map((e) => e.path)).toEqual(['docs', 'docs/README.md', 'src', 'src/main.py']);
    // Folders carry Go's ModeDir; files 0644 with a content-derived mtime.
    expect(listed[0]!.mode).toBe((0x80000000 | 0o755) >>> 0);
    expect(listed[1]).toMatchObject({ mode: 0o644, size: 1 });
    expect(context.list({ ...NO_FILTER, followPaths: ['.dockerignore'] }).map((e) => e.path)).toEqual(['.dockerignore']);
    expect(dirs.dir('dockerfile')!.list({ ...NO_FILTER, followPaths: ['Dockerfile', 'Dockerfile.dockerignore'] })).toMatchObject([
      { path: 'Dockerfile', size: 13 },
    ]);
    expect(dirs.changedEntries()).toEqual([]);
  });

  it('the same content keeps its mtime, another content changes it', () => {
    const a = contextDirs({ 'app/Dockerfile': 'FROM scratch\n', 'app/x.txt': 'one' }).dirs.dir('context')!.list(NO_FILTER);
    const b = contextDirs({ 'app/Dockerfile': 'FROM scratch\n', 'app/x.txt': 'one' }).dirs.dir('context')!.list(NO_FILTER);
    const c = contextDirs({ 'app/Dockerfile': 'FROM scratch\n', 'app/x.txt': 'two' }).dirs.dir('context')!.list(NO_FILTER);
    const time = (l: typeof a) => l.find((e) => e.path === 'x.txt')!.modTime;
    expect(time(a)).toBe(time(b));
    expect(time(a)).not.toBe(time(c));
  });

  it('a file edited since its digest fails as it is read, and is named as changed', () => {
    const { root, dirs } = contextDirs({ 'app/Dockerfile': 'FROM scratch\n', 'app/x.txt': 'one' });
    const context = dirs.dir('context')!;
    const entry = context.list(NO_FILTER).find((e) => e.path === 'x.txt')!;
    writeFileSync(join(root, 'app/x.txt'), 'two');
    expect(() => [...context.read(entry)]).toThrow(/x\.txt changed/);
    expect(dirs.changedEntries()).toEqual(['x.txt']);
  });

  it('encodes and decodes fsutil packets', () => {
    const data = encodePacket(2, { id: 7, data: Buffer.from('abc') });
    expect(decodePacket(data)).toMatchObject({ type: 2, id: 7, data: Buffer.from('abc') });
    // The end of the entries: a STAT packet with no stat at all.
    expect(encodePacket(0).length).toBe(0);
  });
});
