import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { readBuildContext } from '../../src/context/build-context.js';
import { type FileTree, makeProject, runCli } from '../support/project.js';
import { removeImages, runImage, uniqueName } from '../support/services.js';

/**
 * The oracle is Docker itself: the docker CLI builds the same context with the same builder (classic,
 * or BuildKit through buildx), and both images list what `COPY . /ctx` received. Each case runs the
 * two builds at once: they share nothing but the engine.
 */
const LIST_CTX = 'FROM helmet/busybox:latest\nCOPY . /ctx\nCMD ["/bin/sh", "-c", "cd /ctx && find . -mindepth 1 | sort"]\n';

/** Every entry with its kind and mode, size, link target and content hash (newlines in names shown as `|`). */
const DETAIL =
  'cd /ctx && find . -mindepth 1 -exec sh -c \'for f; do n=$(printf "%s" "$f" | tr "\\n" "|"); ' +
  'if [ -L "$f" ]; then echo "link $n => $(readlink "$f")"; elif [ -f "$f" ]; then echo "$(stat -c "%A %s" "$f") $(md5sum < "$f" | cut -c1-32) $n"; ' +
  'else echo "$(stat -c "%A" "$f") $n"; fi; done\' _ {} + | sort';

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

/**
 * The docker CLI's own build of the context: the classic builder (DOCKER_BUILDKIT=0), or BuildKit
 * through buildx's docker driver, which sends the context and the Dockerfile through FileSync.
 */
async function dockerCliListing(contextDir: string, dockerfile: string, tag: string, builder: string): Promise<string[]> {
  if (builder === 'classic') await execa('docker', ['build', '-q', '-t', tag, '-f', dockerfile, contextDir], { env: { DOCKER_BUILDKIT: '0' } });
  else {
    const config = process.env.HELMET_MODERN_DOCKER_CONFIG;
    if (!config) throw new Error('HELMET_MODERN_DOCKER_CONFIG is not set (buildx): start the services with scripts/services.sh up');
    await execa('docker', ['buildx', 'build', '-q', '--load', '-t', tag, '-f', dockerfile, contextDir], { env: { DOCKER_CONFIG: config } });
  }
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
      const [ours, docker] = await Promise.all([
        helmetListing(p.root, 'lister', builder),
        dockerCliListing(ctx, join(ctx, 'Dockerfile'), `${image}:docker-cli-inside`, builder),
      ]);
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
      const [ours, docker] = await Promise.all([
        helmetListing(p.root, 'lister', builder),
        dockerCliListing(ctx, join(ctx, 'Dockerfile'), `${image}:docker-cli-self`, builder),
      ]);
      // BuildKit gets the Dockerfile apart (FileSync), so .dockerignore applies to the context whole.
      expect(ours).toEqual(docker);
      expect(ours).not.toContain('./.dockerignore');
      expect(ours).not.toContain('./Dockerfile');
    } finally {
      p.cleanup();
    }
  });

  it('Dockerfile outside the context (dockerfiles/): same /ctx as docker build -f', async () => {
    const p = listerProject(image, 'dockerfiles/lister.Dockerfile', { 'dockerfiles/lister.Dockerfile': LIST_CTX });
    try {
      const ctx = join(p.root, 'components/lister');
      const [ours, docker] = await Promise.all([
        helmetListing(p.root, 'lister', builder),
        dockerCliListing(ctx, join(p.root, 'dockerfiles/lister.Dockerfile'), `${image}:docker-cli-outside`, builder),
      ]);
      expect(ours).toEqual(docker);
      // The Dockerfile from outside never reaches the image (classic: the engine drops it; BuildKit: it is sent apart).
      expect(ours.filter((l) => l.toLowerCase().includes('dockerfile'))).toEqual([]);
    } finally {
      p.cleanup();
    }
  });
  it('a <Dockerfile>.dockerignore takes the place of .dockerignore: same /ctx as docker buildx build', async () => {
    const p = listerProject(image, 'components/lister/Dockerfile', {
      'components/lister/Dockerfile': LIST_CTX,
      // The context's .dockerignore keeps a.txt and b.log out; the Dockerfile's lets them in and keeps others out.
      'components/lister/Dockerfile.dockerignore': 'keep.log\nsub/\nDockerfile\ncomponent.yaml\n',
    });
    try {
      const ctx = join(p.root, 'components/lister');
      // docker build (classic) knows no <Dockerfile>.dockerignore: buildx is what both builders match.
      const [ours, docker] = await Promise.all([
        helmetListing(p.root, 'lister', builder),
        dockerCliListing(ctx, join(ctx, 'Dockerfile'), `${image}:docker-cli-own-ignore`, 'buildkit'),
      ]);
      expect(ours).toEqual(docker);
      expect(ours).toEqual(expect.arrayContaining(['./.dockerignore', './b.log', './secret.txt', './Dockerfile.dockerignore']));
      expect(ours.filter((l) => /keep\.log|\.\/sub|\.\/Dockerfile$|component\.yaml/.test(l))).toEqual([]);
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
      const [ours, docker] = await Promise.all([
        helmetListing(p.root, 'lister', builder),
        dockerCliListing(ctx, join(p.root, 'dockerfiles/links.Dockerfile'), `${image}:docker-cli-links`, builder),
      ]);
      expect(ours).toEqual(docker);
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

  it('odd names, empty files, FIFOs, modes and contents: the same files, kinds, modes, sizes and bytes as docker build', async () => {
    // In the context: the docker CLI rewrites .dockerignore for a Dockerfile from outside (classic).
    const p = listerProject(image, 'components/lister/Dockerfile', {
      'components/lister/Dockerfile': `FROM helmet/busybox:latest\nCOPY . /ctx\nCMD ${JSON.stringify(['/bin/sh', '-c', DETAIL])}\n`,
      'components/lister/with space.txt': 'space',
      'components/lister/ünïcødé/日本.txt': 'unicode',
      'components/lister/line\nbreak.txt': 'newline',
      'components/lister/empty': '',
      'components/lister/empty-dir/.keep': '',
      'components/lister/a/b.txt': 'ab',
      'components/lister/a.b': 'a.b',
      'components/lister/a-b': 'a-b',
      'components/lister/tool': { content: '#!/bin/sh\n', mode: 0o755 },
    });
    try {
      const ctx = join(p.root, 'components/lister');
      execFileSync('mkfifo', [join(ctx, 'a-fifo')]);
      const [ours, docker] = await Promise.all([
        helmetListing(p.root, 'lister', builder),
        dockerCliListing(ctx, join(ctx, 'Dockerfile'), `${image}:docker-cli-detail`, builder),
      ]);
      expect(ours).toEqual(docker);
      // The classic builder copies a FIFO as one; BuildKit 0.8's COPY leaves it out, 0.13's keeps it (as with docker buildx).
      if (builder === 'classic') expect(ours).toContain('prw-r--r-- ./a-fifo');
      expect(ours).toContain('-rw-r--r-- 7 85a422ca8625a1f6325c2e044756b4e3 ./line|break.txt');
      expect(ours).toEqual(expect.arrayContaining([expect.stringMatching(/^-rw-r--r-- 0 .*\.\/empty$/), expect.stringMatching(/^-rwxr-xr-x .*\.\/tool$/)]));
    } finally {
      p.cleanup();
    }
  });

  it('a .dockerignore of 300 patterns', async () => {
    const patterns = Array.from({ length: 300 }, (_, i) => `generated/file-${i}.txt`);
    const files = Object.fromEntries(Array.from({ length: 310 }, (_, i) => [`components/lister/generated/file-${i}.txt`, `${i}`]));
    const p = listerProject(image, 'components/lister/Dockerfile', {
      ...files,
      'components/lister/.dockerignore': `${patterns.join('\n')}\n`,
      'components/lister/Dockerfile': LIST_CTX,
    });
    try {
      const ctx = join(p.root, 'components/lister');
      const [ours, docker] = await Promise.all([
        helmetListing(p.root, 'lister', builder),
        dockerCliListing(ctx, join(ctx, 'Dockerfile'), `${image}:docker-cli-long`, builder),
      ]);
      expect(ours).toEqual(docker);
      expect(ours.filter((l) => l.startsWith('./generated/'))).toHaveLength(10);
    } finally {
      p.cleanup();
    }
  });

  // The classic builder on vfs copies slowly: 2,000 files there, 5,000 with BuildKit.
  const many = builder === 'buildkit' ? 5_000 : 2_000;
  it(`${many} files: the same files as docker build, and nothing more`, async () => {
    const files = Object.fromEntries(Array.from({ length: many }, (_, i) => [`components/lister/many/d${i % 100}/f${i}.txt`, `${i}`]));
    const p = listerProject(image, 'dockerfiles/many.Dockerfile', {
      ...files,
      'dockerfiles/many.Dockerfile':
        'FROM helmet/busybox:latest\nCOPY . /ctx\nCMD ["/bin/sh", "-c", "cd /ctx && find . -type f | sort | md5sum && find . | wc -l"]\n',
    });
    try {
      const ctx = join(p.root, 'components/lister');
      const [ours, docker] = await Promise.all([
        helmetListing(p.root, 'lister', builder),
        dockerCliListing(ctx, join(p.root, 'dockerfiles/many.Dockerfile'), `${image}:docker-cli-many`, builder),
      ]);
      expect(ours).toEqual(docker);
      // The files in 100 folders under many/, and CONTEXT's own entries (find counts . too).
      const own = readBuildContext(ctx, join(p.root, 'dockerfiles/many.Dockerfile')).entries.filter((e) => !e.path.startsWith('many'));
      expect(Number(ours[1])).toBeGreaterThanOrEqual(1 + many + 101 + own.length);
    } finally {
      p.cleanup();
    }
  }, 180_000);
});
