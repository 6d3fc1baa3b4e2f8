import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { readBuildContext } from '../../src/context/build-context.js';
import { type FileTree, makeProject, runCli } from '../support/project.js';
import { removeImages, runImage, uniqueName } from '../support/services.js';

/**
 * The oracle is Docker itself: the docker CLI (classic builder) builds the same context, and both
 * images list what `COPY . /ctx` received.
 */
const LIST_CTX = 'FROM helmet/busybox:latest\nCOPY . /ctx\nCMD ["/bin/sh", "-c", "cd /ctx && find . -mindepth 1 | sort"]\n';

const CONTEXT: FileTree = {
  '.dockerignore': [
    '# a comment line, not a pattern',
    '*.log',
    '!keep.log',
    '**/*.tmp',
    'build/',
    'docs',
    '!docs/README.md',
    '  secret.txt  ',
    'nested/*/cache',
    '',
  ].join('\n'),
  'a.txt': 'a',
  'b.log': 'b',
  'keep.log': 'k',
  'run.sh': { content: 'echo run', mode: 0o755 },
  '.hidden': 'h',
  'secret.txt': 's',
  'sub/c.tmp': 'c',
  'sub/deep/d.tmp': 'd',
  'sub/e.txt': 'e',
  'build/out.bin': 'o',
  'docs/README.md': 'r',
  'docs/other.md': 'o',
  'nested/x/cache/f': 'f',
  'nested/x/keep': 'k',
};

async function dockerCliListing(contextDir: string, dockerfile: string, tag: string): Promise<string[]> {
  await execa('docker', ['build', '-q', '-t', tag, '-f', dockerfile, contextDir], { env: { DOCKER_BUILDKIT: '0' } });
  return lines((await runImage(tag)).output);
}

async function helmetListing(root: string, component: string, builder: string): Promise<string[]> {
  const r = await runCli(['build', component, '--builder', builder], root);
  expect(r.stderr).not.toContain('FAILED');
  expect(r.code).toBe(0);
  const report = JSON.parse((await import('node:fs')).readFileSync(join(root, 'dist/build.json'), 'utf8'));
  return lines((await runImage(report.components[component].imageId)).output);
}

function lines(s: string): string[] {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** A project whose component `lister` has CONTEXT (plus `extra` files) and builds with `dockerfile`. */
function listerProject(image: string, dockerfile: string, extra: FileTree) {
  return makeProject({
    ...Object.fromEntries(Object.entries(CONTEXT).map(([k, v]) => [`components/lister/${k}`, v])),
    ...extra,
    'components/lister/component.yaml': `name: lister\nimplementation:\n  container:\n    command: [/bin/sh]\nbuild:\n  image: ${image}\n  dockerfile: ${dockerfile}\n`,
  });
}

describe.each(['buildkit', 'classic'])('.dockerignore is applied exactly as docker build applies it (%s builder)', (builder) => {
  const image = uniqueName(`itest-ignore-${builder}`);
  afterAll(() => removeImages(image));

  it('Dockerfile inside the context: same /ctx as the docker CLI', async () => {
    const p = listerProject(image, 'components/lister/Dockerfile', { 'components/lister/Dockerfile': LIST_CTX });
    try {
      const ctx = join(p.root, 'components/lister');
      const ours = await helmetListing(p.root, 'lister', builder);
      const docker = await dockerCliListing(ctx, join(ctx, 'Dockerfile'), `${image}:docker-cli-inside`);
      expect(ours).toEqual(docker);
      expect(ours).toEqual([
        './.dockerignore',
        './.hidden',
        './Dockerfile',
        './a.txt',
        './component.yaml',
        './docs',
        './docs/README.md',
        './keep.log',
        './nested',
        './nested/x',
        './nested/x/keep',
        './run.sh',
        './sub',
        './sub/deep',
        './sub/e.txt',
      ]);
      // The walk reports the same set; folders of re-included files (docs/) are created by extraction.
      const walked = readBuildContext(ctx, join(ctx, 'Dockerfile')).entries.map((e) => `./${e.path}`);
      const withParents = new Set(
        walked.flatMap((p) =>
          p
            .split('/')
            .slice(1)
            .map((_, i, parts) => `./${parts.slice(0, i + 1).join('/')}`),
        ),
      );
      expect([...withParents].sort()).toEqual(ours);
      expect(walked).not.toContain('./docs');
    } finally {
      p.cleanup();
    }
  });

  it('a .dockerignore that lists itself and the Dockerfile: the engine drops both, as with docker build', async () => {
    const p = listerProject(image, 'components/lister/Dockerfile', {
      'components/lister/.dockerignore': `${CONTEXT['.dockerignore']}\n.dockerignore\nDockerfile\ncomponent.yaml\n`,
      'components/lister/Dockerfile': LIST_CTX,
    });
    try {
      const ctx = join(p.root, 'components/lister');
      const ours = await helmetListing(p.root, 'lister', builder);
      const docker = await dockerCliListing(ctx, join(ctx, 'Dockerfile'), `${image}:docker-cli-self`);
      expect(ours).not.toContain('./.dockerignore');
      if (builder === 'classic') {
        expect(ours).toEqual(docker);
        expect(ours).not.toContain('./Dockerfile');
      } else {
        // BuildKit reads the Dockerfile from the uploaded context and applies no .dockerignore to it:
        // the one difference from docker build is the Dockerfile itself (README, "Builders").
        expect(ours).toEqual([...docker, './Dockerfile'].sort());
      }
    } finally {
      p.cleanup();
    }
  });

  it('Dockerfile outside the context (dockerfiles/): same /ctx as docker build -f', async () => {
    const p = listerProject(image, 'dockerfiles/lister.Dockerfile', { 'dockerfiles/lister.Dockerfile': LIST_CTX });
    try {
      const ctx = join(p.root, 'components/lister');
      const ours = await helmetListing(p.root, 'lister', builder);
      const docker = await dockerCliListing(ctx, join(p.root, 'dockerfiles/lister.Dockerfile'), `${image}:docker-cli-outside`);
      expect(ours.filter((l) => !l.startsWith('./.dockerfile.'))).toEqual(docker.filter((l) => !l.startsWith('./.dockerfile.')));
      // Classic: the engine drops the added Dockerfile; BuildKit: it stays, as the one extra entry.
      expect(ours.filter((l) => l.includes('dockerfile'))).toHaveLength(builder === 'classic' ? 0 : 1);
    } finally {
      p.cleanup();
    }
  });
  it('symbolic links (relative, absolute, dangling, to a folder, out of the context) are sent as links, as docker build sends them', async () => {
    const p = listerProject(image, 'dockerfiles/links.Dockerfile', {
      'dockerfiles/links.Dockerfile': [
        'FROM helmet/busybox:latest',
        'COPY . /ctx',
        'CMD cd /ctx && find . -mindepth 1 | sort | while read f; do if [ -L "$f" ]; then echo "$f => $(readlink "$f")"; else echo "$f"; fi; done',
        '',
      ].join('\n'),
      'components/lister/folder/inside.txt': 'inside',
    });
    try {
      const ctx = join(p.root, 'components/lister');
      symlinkSync('a.txt', join(ctx, 'rel-link'));
      symlinkSync('/etc/hostname', join(ctx, 'abs-link'));
      symlinkSync('nothing-here', join(ctx, 'dangling-link'));
      symlinkSync('folder', join(ctx, 'folder-link'));
      symlinkSync('../../README.md', join(ctx, 'outside-link'));
      const ours = (await helmetListing(p.root, 'lister', builder)).filter((l) => !l.startsWith('./.dockerfile.'));
      const docker = await dockerCliListing(ctx, join(p.root, 'dockerfiles/links.Dockerfile'), `${image}:docker-cli-links`);
      expect(ours).toEqual(docker.filter((l) => !l.startsWith('./.dockerfile.')));
      expect(ours).toEqual(
        expect.arrayContaining([
          './rel-link => a.txt',
          './abs-link => /etc/hostname',
          './dangling-link => nothing-here',
          './folder-link => folder',
          './outside-link => ../../README.md',
        ]),
      );
    } finally {
      p.cleanup();
    }
  });
});
