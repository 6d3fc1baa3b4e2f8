/**
 * Contexts as build scripts made them: `add:` folders merged in at a path (a later folder's file
 * wins, as rsync leaves them; `.dockerignore` applies to where they land), and a
 * `<Dockerfile>.dockerignore` that takes the place of the context's `.dockerignore`. Both builders'
 * transports send exactly that, and a change in a merged folder is seen as a change of the context.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { readBuildContext } from '../../src/context/build-context.js';
import { changesInFolder } from '../../src/context/context-recheck.js';
import { createContextDirs } from '../../src/context/context-sync.js';
import { createContextTar } from '../../src/context/context-tar.js';
import { describeInputChanges, inputRecord } from '../../src/context/input-digest.js';
import { useProjects } from '../support/project.js';

async function tarFiles(stream: NodeJS.ReadableStream): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const ex = extract();
  ex.on('entry', (h, body, next) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: Buffer) => chunks.push(c));
    body.on('end', () => {
      out[h.name.replace(/\/$/, '')] = h.type === 'directory' ? '<dir>' : Buffer.concat(chunks).toString();
      next();
    });
  });
  const done = new Promise((r) => ex.on('finish', r));
  stream.pipe(ex);
  await done;
  return out;
}

function syncFiles(ctx: ReturnType<typeof readBuildContext>, dockerfileName: string): Record<string, string> {
  const dir = createContextDirs(ctx, dockerfileName).dir('context')!;
  const out: Record<string, string> = {};
  for (const e of dir.list({ includePatterns: [], excludePatterns: [], followPaths: [] })) {
    out[e.path] = e.mode & 0x80000000 ? '<dir>' : Buffer.concat([...dir.read(e)]).toString();
  }
  return out;
}

const SHAPE = {
  'base/Dockerfile': 'FROM busybox\nADD build /ml\n',
  'base/.dockerignore': '**/*.pyc\n',
  'base/build/own.txt': 'own\n',
  'roc/src/roc.py': 'roc\n',
  'roc/src/common.py': 'from roc\n',
  'roc/src/cache.pyc': 'x',
  'cm/src/cm.py': 'cm\n',
  'cm/src/common.py': 'from cm\n',
  'cm/src/util/helpers.py': 'h\n',
};

describe('add: folders merged into the context', () => {
  const project = useProjects();

  it('lands each folder at its place, a later folder winning, with .dockerignore applied where they land', async () => {
    const root = project(SHAPE);
    const add = [{ at: 'build', from: [join(root, 'cm/src'), join(root, 'roc/src')] }];
    const ctx = readBuildContext(join(root, 'base'), join(root, 'base/Dockerfile'), { add });
    const expected = {
      '.dockerignore': '**/*.pyc\n',
      Dockerfile: 'FROM busybox\nADD build /ml\n',
      build: '<dir>',
      'build/cm.py': 'cm\n',
      'build/common.py': 'from roc\n',
      'build/own.txt': 'own\n',
      'build/roc.py': 'roc\n',
      'build/util': '<dir>',
      'build/util/helpers.py': 'h\n',
    };
    expect(ctx.entries.map((e) => e.path)).toEqual(Object.keys(expected));
    for (const builder of ['classic', 'buildkit'] as const) expect(await tarFiles(createContextTar(ctx, builder).stream)).toEqual(expected);
    expect(syncFiles(ctx, 'Dockerfile')).toEqual(expected);
  });

  it('makes the folders on the way to a place that is not there, and takes a changed merged file as a changed input', () => {
    const root = project(SHAPE);
    const read = () => readBuildContext(join(root, 'base'), join(root, 'base/Dockerfile'), { add: [{ at: 'opt/ml/src', from: [join(root, 'roc/src')] }] });
    const before = read();
    expect(before.entries.filter((e) => e.path.startsWith('opt')).map((e) => `${e.kind} ${e.path}`)).toEqual([
      'dir opt',
      'dir opt/ml',
      'dir opt/ml/src',
      'file opt/ml/src/common.py',
      'file opt/ml/src/roc.py',
    ]);
    writeFileSync(join(root, 'roc/src/roc.py'), 'roc 2\n');
    const after = read();
    const a = inputRecord({ context: before, buildArgs: {} });
    const b = inputRecord({ context: after, buildArgs: {} });
    expect(a.inputDigest).not.toBe(b.inputDigest);
    expect(describeInputChanges(a, b, { dockerfile: 'base/Dockerfile' })).toEqual(['files: opt/ml/src/roc.py (changed)']);
  });

  it('a file added to a merged folder since the walk is a change of the context, on both transports', async () => {
    const root = project(SHAPE);
    const ctx = readBuildContext(join(root, 'base'), join(root, 'base/Dockerfile'), { add: [{ at: 'build', from: [join(root, 'cm/src')] }] });
    writeFileSync(join(root, 'cm/src/util/new.py'), 'new\n');
    const walked = new Set(ctx.entries.map((e) => e.path));
    expect(changesInFolder(ctx, 'build/util', walked)).toEqual(['build/util/new.py']);
    const tar = createContextTar(ctx, 'classic');
    await tarFiles(tar.stream);
    expect(tar.changedEntries()).toEqual(['build/util/new.py']);
    const dirs = createContextDirs(ctx, 'Dockerfile');
    dirs.dir('context')!.list({ includePatterns: [], excludePatterns: [], followPaths: [] });
    expect(dirs.changedEntries()).toEqual(['build/util/new.py']);
  });
});

describe('<Dockerfile>.dockerignore', () => {
  const project = useProjects();
  const files = {
    'ctx/Dockerfile': 'FROM busybox\nCOPY . /ctx\n',
    'ctx/Dockerfile.dockerignore': 'b.txt\nDockerfile\n',
    'ctx/.dockerignore': 'a.txt\n',
    'ctx/a.txt': 'a',
    'ctx/b.txt': 'b',
  };

  it('its patterns decide, and the context .dockerignore is a file like any other, as docker buildx sends it', async () => {
    const root = project(files);
    const ctx = readBuildContext(join(root, 'ctx'), join(root, 'ctx/Dockerfile'));
    expect(ctx.entries.map((e) => e.path)).toEqual(['.dockerignore', 'Dockerfile', 'Dockerfile.dockerignore', 'a.txt']);
    // The Dockerfile is sent for the engine to read, and dropped from what COPY sees.
    expect(ctx.readOnlyByEngine).toEqual(['Dockerfile']);
    // The classic engine reads the tar's .dockerignore for what to drop: it gets the patterns that apply.
    expect((await tarFiles(createContextTar(ctx, 'classic').stream))['.dockerignore']).toBe('b.txt\nDockerfile\n');
    // BuildKit through FileSync: the context as it is; the patterns beside the Dockerfile, where the engine looks first.
    const dirs = createContextDirs(ctx, 'Dockerfile');
    expect(syncFiles(ctx, 'Dockerfile')['.dockerignore']).toBe('a.txt\n');
    const dockerfileDir = dirs.dir('dockerfile')!;
    const own = dockerfileDir.list({ includePatterns: [], excludePatterns: [], followPaths: ['Dockerfile.dockerignore'] });
    expect(own.map((e) => e.path)).toEqual(['Dockerfile.dockerignore']);
    expect(Buffer.concat([...dockerfileDir.read(own[0]!)]).toString()).toBe('b.txt\nDockerfile\n');
  });

  it('is part of the input digest, and the plan says it changed', () => {
    const root = project(files);
    const read = () => inputRecord({ context: readBuildContext(join(root, 'ctx'), join(root, 'ctx/Dockerfile')), buildArgs: {} });
    const before = read();
    writeFileSync(join(root, 'ctx/Dockerfile.dockerignore'), 'b.txt\n');
    const after = read();
    expect(after.inputDigest).not.toBe(before.inputDigest);
    expect(describeInputChanges(before, after, { dockerfile: 'ctx/Dockerfile' })).toContain('ctx/Dockerfile.dockerignore changed');
  });
});
