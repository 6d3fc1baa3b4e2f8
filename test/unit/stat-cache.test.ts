import { lstatSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readBuildContext } from '../../src/context/build-context.js';
import { inputRecord } from '../../src/context/input-digest.js';
import { CACHE_DIR, StatCache } from '../../src/context/stat-cache.js';
import { makeProject } from '../support/project.js';

const inputDigestOf = (inputs: Parameters<typeof inputRecord>[0]): string => inputRecord(inputs).inputDigest;

const FILES = 40;
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function project(): { root: string; cleanup: () => void } {
  const files: Record<string, string> = { Dockerfile: 'FROM scratch\nCOPY . /\n' };
  for (let i = 0; i < FILES; i++) files[`src/f${i}.txt`] = `file ${i}\n`;
  return makeProject(files);
}

/** One plan's worth of hashing: open the cache, digest the context, save. */
function digestWithCache(root: string): { digest: string; filesHashed: number } {
  const cache = StatCache.open(root);
  const context = readBuildContext(root, join(root, 'Dockerfile'), { hasher: cache, exclude: [join(root, CACHE_DIR)] });
  cache.save();
  return { digest: inputDigestOf({ context, buildArgs: {} }), filesHashed: cache.filesHashed };
}

/** Without a cache: every file read. */
const plainDigest = (root: string) =>
  inputDigestOf({ context: readBuildContext(root, join(root, 'Dockerfile'), { exclude: [join(root, CACHE_DIR)] }), buildArgs: {} });

describe('the stat cache', () => {
  // Files changed within the last 2 s are never cached (the racy window): make them older first.
  let root: string;
  let cleanup = () => {};
  beforeAll(async () => {
    ({ root, cleanup } = project());
    await new Promise((r) => setTimeout(r, 2100));
  });
  afterAll(() => cleanup());

  it('a warm run reads no file content, and the digest is the content digest', () => {
    const cold = digestWithCache(root);
    expect(cold.filesHashed).toBe(FILES + 1);
    const warm = digestWithCache(root);
    expect(warm.filesHashed).toBe(0);
    expect(warm.digest).toBe(cold.digest);
    expect(warm.digest).toBe(plainDigest(root));
  });

  it('a touched file is read again and keeps its digest; a changed byte changes it', () => {
    const before = digestWithCache(root).digest;
    const file = join(root, 'src/f3.txt');
    const later = new Date(Date.now() - 60_000);
    utimesSync(file, later, later);
    const touched = digestWithCache(root);
    expect(touched.filesHashed).toBe(1);
    expect(touched.digest).toBe(before);
    writeFileSync(file, 'file X\n'); // same size, other content
    const changed = digestWithCache(root);
    expect(changed.digest).not.toBe(before);
    expect(changed.digest).toBe(plainDigest(root));
  });

  it('the racy case: a file changed in the same tick as it was hashed is hashed again next time, though its stat is unchanged', () => {
    const cache = StatCache.open(root);
    const file = join(root, 'src/f7.txt');
    const st = lstatSync(file);
    // As if the file had been written just now, in the same timestamp tick as this hash.
    const now = Date.now();
    const fresh = Object.assign(Object.create(Object.getPrototypeOf(st)), st, { mtimeMs: now, ctimeMs: now });
    expect(cache.hash(file, fresh, () => 'first content')).toBe('first content');
    // Same stat, new content: a cache that kept the entry would answer "first content".
    expect(cache.hash(file, fresh, () => 'second content')).toBe('second content');
    expect(cache.filesHashed).toBe(2);
  });

  it('a corrupt, foreign or missing cache file is ignored, never an error', () => {
    const expected = plainDigest(root);
    digestWithCache(root);
    const file = join(root, CACHE_DIR, 'stat-cache');
    const good = readFileSync(file, 'utf8');
    const lines = good.split('\n');
    // One entry's digest altered, the checksum line left as it was: the damage is noticed.
    const alteredEntry = [lines[0], ...lines.slice(1).map((l, i) => (i === 0 ? l.replace(/[0-9a-f]{64}$/, 'f'.repeat(64)) : l))].join('\n');
    for (const junk of ['{"version": 2, "files": ', '', 'helmet-build stat cache v3 00\nsrc/f1.txt\t1 2 3 4 x', good.slice(0, good.length / 2), alteredEntry]) {
      writeFileSync(file, junk);
      const r = digestWithCache(root);
      expect(r.digest).toBe(expected);
      expect(r.filesHashed).toBe(FILES + 1);
    }
    rmSync(join(root, CACHE_DIR), { recursive: true });
    expect(digestWithCache(root)).toEqual({ digest: expected, filesHashed: FILES + 1 });
  });

  it('is never part of a build context, and keeps itself out of git', () => {
    digestWithCache(root);
    const context = readBuildContext(root, join(root, 'Dockerfile'), { exclude: [join(root, CACHE_DIR)] });
    expect(context.entries.filter((e) => e.path.startsWith(CACHE_DIR))).toEqual([]);
    expect(readFileSync(join(root, CACHE_DIR, '.gitignore'), 'utf8')).toBe('*\n');
  });
});

describe('files excluded by .dockerignore', () => {
  it('are never opened, with or without ! exceptions', () => {
    for (const ignore of ['models/\n', 'models/\n!models/keep.txt\n']) {
      const p = makeProject({
        Dockerfile: 'FROM scratch\n',
        '.dockerignore': ignore,
        'app.py': 'print(1)\n',
        'models/weights.bin': 'w'.repeat(4096),
        'models/keep.txt': 'kept when excepted\n',
      });
      cleanups.push(p.cleanup);
      const read: string[] = [];
      const hasher = { hash: (abs: string, _st: unknown, hashIt: () => string) => (read.push(abs.slice(p.root.length + 1)), hashIt()) };
      readBuildContext(p.root, join(p.root, 'Dockerfile'), { hasher });
      expect(read).not.toContain('models/weights.bin');
      expect(read).toContain('app.py');
      expect(read.includes('models/keep.txt')).toBe(ignore.includes('!'));
    }
  });
});
