import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { readBuildContext } from '../../src/context/build-context.js';
import { createContextTar } from '../../src/context/context-tar.js';
import { makeProject } from '../support/project.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

interface TarEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  mtime: number;
  content: string;
}

async function readTar(stream: NodeJS.ReadableStream): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const ex = extract();
  ex.on('entry', (h, body, next) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: Buffer) => chunks.push(c));
    body.on('end', () => {
      out.push({ name: h.name, type: h.type!, mode: h.mode!, uid: h.uid!, mtime: h.mtime!.getTime(), content: Buffer.concat(chunks).toString() });
      next();
    });
  });
  const done = new Promise((r) => ex.on('finish', r));
  stream.pipe(ex);
  await done;
  return out;
}

function context(files: Record<string, string | { content: string; mode: number }>) {
  const p = makeProject(files);
  cleanups.push(p.cleanup);
  return p.root;
}

describe('context tar', () => {
  it('holds exactly the walked entries in order, with normalised owner, mtime and modes (classic builder)', async () => {
    const root = context({
      'ctx/b.txt': 'b',
      'ctx/a/x.sh': { content: 'x', mode: 0o775 },
      'ctx/.dockerignore': 'skip*\n',
      'ctx/skip.me': 's',
      Dockerfile: 'FROM scratch\n',
    });
    const tar = createContextTar(readBuildContext(join(root, 'ctx'), join(root, 'Dockerfile')), 'classic');
    const entries = await readTar(tar.stream);
    const df = tar.dockerfile;
    expect(df).toMatch(/^\.dockerfile\.[0-9a-f]{20}$/);
    // Folders end in a slash, as the docker CLI (Go's archive/tar) and GNU tar write them.
    expect(entries.map((e) => e.name)).toEqual(['a/', 'a/x.sh', 'b.txt', '.dockerignore', df]);
    expect(entries.find((e) => e.name === 'a/x.sh')).toMatchObject({ mode: 0o755, uid: 0, mtime: Date.UTC(2000, 0, 1) });
    expect(entries.find((e) => e.name === 'b.txt')!.mode).toBe(0o644);
    expect(entries.find((e) => e.name === '.dockerignore')!.content).toBe(`skip*\n\n${df}\n`);
    expect(entries.find((e) => e.name === df)!.content).toBe('FROM scratch\n');
    expect(tar.changedEntries()).toEqual([]);
  });

  it('for BuildKit: what the context should hold, plus the Dockerfile; a self-excluded .dockerignore is left out', async () => {
    const root = context({ 'ctx/b.txt': 'b', 'ctx/.dockerignore': 'skip*\n', 'ctx/skip.me': 's', Dockerfile: 'FROM scratch\n' });
    const tar = createContextTar(readBuildContext(join(root, 'ctx'), join(root, 'Dockerfile')), 'buildkit');
    const entries = await readTar(tar.stream);
    expect(entries.map((e) => e.name)).toEqual(['.dockerignore', 'b.txt', tar.dockerfile]);
    // The context's own .dockerignore, as docker build would send it: nothing synthesised.
    expect(entries.find((e) => e.name === '.dockerignore')!.content).toBe('skip*\n');

    const selfExcluding = context({ 'ctx/b.txt': 'b', 'ctx/.dockerignore': '.dockerignore\nDockerfile\n', 'ctx/Dockerfile': 'FROM scratch\n' });
    const ctx = readBuildContext(join(selfExcluding, 'ctx'), join(selfExcluding, 'ctx/Dockerfile'));
    expect(ctx.readOnlyByEngine.sort()).toEqual(['.dockerignore', 'Dockerfile']);
    const own = await readTar(createContextTar(ctx, 'buildkit').stream);
    expect(own.map((e) => e.name)).toEqual(['Dockerfile', 'b.txt']);
  });

  it('reports files and links that changed after the input digest was computed', async () => {
    const root = context({ 'ctx/a.txt': 'before', 'ctx/same.txt': 'same', Dockerfile: 'FROM scratch\n' });
    symlinkSync('a.txt', join(root, 'ctx/link'));
    const ctx = readBuildContext(join(root, 'ctx'), join(root, 'Dockerfile'));
    writeFileSync(join(root, 'ctx/a.txt'), 'afterX');
    unlinkSync(join(root, 'ctx/link'));
    symlinkSync('same.txt', join(root, 'ctx/link'));
    const tar = createContextTar(ctx);
    await readTar(tar.stream);
    expect(tar.changedEntries()).toEqual(['a.txt', 'link']);
  });
});

describe('the tar format, read back by GNU tar and by tar-stream', () => {
  const longFolder = `${'deep/'.repeat(30)}end`; // 153 bytes: goes in the ustar prefix
  const longName = `${'n'.repeat(120)}.txt`; // 124 bytes: needs a PAX path
  const longTarget = `../${'t'.repeat(150)}`; // 153 bytes: needs a PAX linkpath
  const files = {
    Dockerfile: 'FROM scratch\n',
    'empty.txt': '',
    'block.bin': 'b'.repeat(512),
    'run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
    'ünïcødé/名前.txt': 'utf-8 names\n',
    [`${longFolder}/in-prefix.txt`]: 'prefix\n',
    [longName]: 'pax path\n',
    'big.bin': 'x'.repeat(300 * 1024 + 7), // above the whole-file limit: sent in chunks
  };

  async function archive(): Promise<{ root: string; bytes: Buffer }> {
    const root = context(files);
    symlinkSync(longTarget, join(root, 'long-link'));
    symlinkSync('run.sh', join(root, 'short-link'));
    const tar = createContextTar(readBuildContext(root, join(root, 'Dockerfile')));
    const chunks: Buffer[] = [];
    for await (const c of tar.stream) chunks.push(c as Buffer);
    expect(tar.changedEntries()).toEqual([]);
    return { root, bytes: Buffer.concat(chunks) };
  }

  it('tar-stream reads every name, type, mode, link target and content as written', async () => {
    const { bytes } = await archive();
    const entries = await readTar(Readable.from([bytes]));
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (const [name, spec] of Object.entries(files)) {
      const content = typeof spec === 'string' ? spec : spec.content;
      expect(byName.get(name)?.content, name).toBe(content);
      expect(byName.get(name)?.mode, name).toBe(typeof spec === 'string' ? 0o644 : 0o755);
    }
    expect(byName.get('ünïcødé/')?.type).toBe('directory');
    expect(byName.get(`${longFolder}/`)?.type).toBe('directory');
    expect(entries.every((e) => e.uid === 0 && e.mtime === Date.UTC(2000, 0, 1))).toBe(true);
  });

  it('GNU tar lists and extracts the same tree, long names and link targets included', async () => {
    const { bytes } = await archive();
    const out = context({});
    execFileSync('tar', ['-xf', '-', '-C', out], { input: bytes });
    for (const [name, spec] of Object.entries(files)) {
      expect(readFileSync(join(out, name), 'utf8'), name).toBe(typeof spec === 'string' ? spec : spec.content);
      expect(statSync(join(out, name)).mode & 0o111, name).toBe(typeof spec === 'string' ? 0 : 0o111);
    }
    expect(readlinkSync(join(out, 'long-link'))).toBe(longTarget);
    expect(readlinkSync(join(out, 'short-link'))).toBe('run.sh');
    // GNU tar's own verdict on the archive: no warnings, every entry listed.
    const listing = execFileSync('tar', ['-tf', '-'], { input: bytes, encoding: 'utf8' }).trim().split('\n');
    expect(listing).toEqual(expect.arrayContaining([longName, `${longFolder}/in-prefix.txt`, 'long-link', 'big.bin']));
  });
});

describe('a context file replaced by a FIFO before the tar is written', () => {
  it('is reported as changed, and never blocks the run', async () => {
    const root = context({ Dockerfile: 'FROM scratch\n', 'data.txt': 'data\n' });
    const ctx = readBuildContext(root, join(root, 'Dockerfile'));
    unlinkSync(join(root, 'data.txt'));
    execFileSync('mkfifo', [join(root, 'data.txt')]);
    const tar = createContextTar(ctx);
    const entries = await readTar(tar.stream);
    expect(tar.changedEntries()).toEqual(['data.txt']);
    // The archive stays well-formed: whatever else it holds is read back.
    expect(entries.map((e) => e.name)).toContain('Dockerfile');
  });
});

describe('a context file with a long name replaced by a FIFO before the tar is written', () => {
  it('is reported as changed, and never blocks the run', async () => {
    const name = `${'n'.repeat(120)}.txt`; // needs a PAX header: the path taken by files sent on their own
    const root = context({ Dockerfile: 'FROM scratch\n', [name]: 'data\n' });
    const ctx = readBuildContext(root, join(root, 'Dockerfile'));
    unlinkSync(join(root, name));
    execFileSync('mkfifo', [join(root, name)]);
    const tar = createContextTar(ctx);
    const entries = await readTar(tar.stream);
    expect(tar.changedEntries()).toEqual([name]);
    expect(entries.map((e) => e.name)).toContain('Dockerfile');
  });
});

describe('every way a context can change between its digest and the tar: reported as changed, by path', () => {
  const big = 'b'.repeat(300 * 1024); // above the small-file limit: sent in chunks
  const cases: { name: string; files?: Record<string, string>; change: (root: string) => void; changed: string[] }[] = [
    { name: 'a file edited (same size)', change: (r) => writeFileSync(join(r, 'app/data.txt'), 'DATA\n'), changed: ['app/data.txt'] },
    { name: 'a file grown', change: (r) => writeFileSync(join(r, 'app/data.txt'), 'data, and more\n'), changed: ['app/data.txt'] },
    { name: 'a file shrunk', change: (r) => writeFileSync(join(r, 'app/data.txt'), 'd\n'), changed: ['app/data.txt'] },
    { name: 'a file deleted', change: (r) => unlinkSync(join(r, 'app/data.txt')), changed: ['app/data.txt'] },
    { name: 'a large file deleted', change: (r) => unlinkSync(join(r, 'app/big.bin')), changed: ['app/big.bin'] },
    { name: 'a large file edited', change: (r) => writeFileSync(join(r, 'app/big.bin'), `x${big.slice(1)}`), changed: ['app/big.bin'] },
    {
      name: 'a file replaced by a folder',
      change: (r) => {
        unlinkSync(join(r, 'app/data.txt'));
        execFileSync('mkdir', [join(r, 'app/data.txt')]);
      },
      changed: ['app/data.txt'],
    },
    {
      name: 'a file replaced by a link to the same content',
      change: (r) => {
        writeFileSync(join(r, 'elsewhere.txt'), 'data\n');
        unlinkSync(join(r, 'app/data.txt'));
        symlinkSync('../elsewhere.txt', join(r, 'app/data.txt'));
      },
      // The new file the link points at is a change of its own.
      changed: ['app/data.txt', 'elsewhere.txt'],
    },
    {
      name: 'an empty file replaced by a FIFO',
      change: (r) => {
        unlinkSync(join(r, 'app/empty'));
        execFileSync('mkfifo', [join(r, 'app/empty')]);
      },
      changed: ['app/empty'],
    },
    { name: 'a new file in a folder that was walked', change: (r) => writeFileSync(join(r, 'app/new.txt'), 'new\n'), changed: ['app/new.txt'] },
    {
      name: 'a folder replaced by a file',
      change: (r) => {
        execFileSync('rm', ['-r', join(r, 'app/sub')]);
        writeFileSync(join(r, 'app/sub'), 'now a file\n');
      },
      changed: ['app/sub', 'app/sub/inner.txt'],
    },
    {
      name: 'a link retargeted',
      change: (r) => {
        unlinkSync(join(r, 'app/link'));
        symlinkSync('big.bin', join(r, 'app/link'));
      },
      changed: ['app/link'],
    },
  ];

  it.each(cases)('$name', async (c) => {
    const root = context({ Dockerfile: 'FROM scratch\n', 'app/data.txt': 'data\n', 'app/empty': '', 'app/big.bin': big, 'app/sub/inner.txt': 'in\n' });
    symlinkSync('data.txt', join(root, 'app/link'));
    const ctx = readBuildContext(root, join(root, 'Dockerfile'));
    c.change(root);
    const tar = createContextTar(ctx);
    await readTar(tar.stream);
    expect(tar.changedEntries()).toEqual(c.changed);
  });

  it('an unchanged context reports nothing (the check is not a false alarm)', async () => {
    const root = context({ Dockerfile: 'FROM scratch\n', 'app/data.txt': 'data\n', 'app/empty': '', 'app/big.bin': big, 'app/sub/inner.txt': 'in\n' });
    symlinkSync('data.txt', join(root, 'app/link'));
    const tar = createContextTar(readBuildContext(root, join(root, 'Dockerfile')));
    await readTar(tar.stream);
    expect(tar.changedEntries()).toEqual([]);
  });
});
