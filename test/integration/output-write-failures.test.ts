/**
 * Outputs on a file system that refuses writes — a full disk, a read-only mount — as a user meets
 * them: exit 1 with one line naming the file and the cause, never "internal error" or a stack trace;
 * the other components finish and are recorded; earlier files stay intact, no temp file is left. A
 * stat cache that cannot be saved is a warning only. The file systems are real tmpfs mounts (root).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeProject, runCli, snapshotTree, TINY_DOCKERFILE, tinyComponent } from '../support/project.js';
import { removeImages, uniqueName } from '../support/services.js';

const mounts: string[] = [];

function mountTmpfs(dir: string, options: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
}

/** Unmount what the test mounted (also when it failed), newest first. */
function unmountAll(): void {
  for (const dir of mounts.splice(0).reverse()) execFileSync('umount', [dir]);
}

/** Write zeros until the file system is full. */
function fill(dir: string): void {
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
  } catch {
    // dd stops with "No space left on device": that is the point.
  }
}

function tempFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tmp'));
}

describe('outputs the file system refuses', () => {
  const hello = uniqueName('itest-wfail-hello');
  const world = uniqueName('itest-wfail-world');
  const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('hello', hello, 'hello'), ...tinyComponent('world', world, 'world') });
  const dist = join(project.root, 'dist');

  afterEach(unmountAll);
  afterAll(async () => {
    await removeImages(hello);
    await removeImages(world);
    project.cleanup();
  });

  it('a full disk under dist/: exit 1 naming the file and "no space left", earlier outputs intact, no temp file', async () => {
    mountTmpfs(dist, 'size=512k');
    const first = await runCli(['all'], project.root);
    expect(first.code, first.stderr).toBe(0);
    const before = snapshotTree(dist);
    fill(dist);
    writeFileSync(join(project.root, 'components/world/main.sh'), 'echo "world, changed"\n');

    const r = await runCli(['all'], project.root);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/cannot write \S+: no space left on the device \(ENOSPC\)/);
    expect(r.stderr).toMatch(/Free space on the device holding/);
    expect(r.stderr).not.toMatch(/internal error|This is a bug|\n\s+at /);
    const after = snapshotTree(dist);
    delete after.filler;
    expect(after).toEqual(before);
    expect(tempFiles(dist)).toEqual([]);
  });

  it("a read-only folder for one component's spec: that component fails (OUTPUT_WRITE, exit 1), the other is written and recorded", async () => {
    execFileSync('rm', ['-rf', dist]);
    mountTmpfs(join(dist, 'components', 'world'), 'ro,size=64k');
    const r = await runCli(['all', '--json'], project.root);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr + r.stdout).toMatch(/cannot write \S*components\/world\/component\.yaml: the file system is read-only \(EROFS\)/);
    expect(r.stderr + r.stdout).not.toMatch(/internal error/);
    const report = JSON.parse(readFileSync(join(dist, 'build.json'), 'utf8'));
    // hello's image is the first test's: reused, and recorded as good.
    expect(report.components.hello).toMatchObject({ action: 'reused', image: expect.stringMatching(/^sha256:/) });
    expect(report.components.world).toMatchObject({ action: 'failed', error: { code: 'OUTPUT_WRITE', exitCode: 1 } });
    expect(report.ok).toBe(false);
    expect(readFileSync(join(dist, 'components/hello/component.yaml'), 'utf8')).toContain(report.components.hello.image);
    expect(tempFiles(join(dist, 'components'))).toEqual([]);
  });

  it('a stat cache that cannot be saved is a warning, and the run succeeds', async () => {
    execFileSync('rm', ['-rf', dist, join(project.root, '.helmet-cache')]);
    mountTmpfs(join(project.root, '.helmet-cache'), 'ro,size=64k');
    // Files changed within the stat cache's racy window (2 s) are not cached, and then nothing is
    // saved: let the project's files age past it, however fast the tests before ran.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const r = await runCli(['all'], project.root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: the stat cache was not saved \(.*EROFS.*\); the next run reads every file again/);
  });
});
