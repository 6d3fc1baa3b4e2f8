import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, runCli, snapshotTree } from '../support/project.js';
import { PYTHON, removeImages, runImage, services, uniqueName } from '../support/services.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'helmet-build.js');

describe('helmet-build new (real engine)', () => {
  const project = makeProject({ 'README.md': 'a new project\n' });
  const image = uniqueName('itest-new');
  cpSync(join(ROOT, 'dockerfiles'), join(project.root, 'dockerfiles'), { recursive: true });
  afterAll(async () => {
    await removeImages(image);
    project.cleanup();
  });

  it('scaffolds a component that builds unchanged, runs, and whose unit test passes', async () => {
    const made = await runCli(['new', 'score-model'], project.root);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toContain('wrote components/score-model/component.yaml');
    const spec = readFileSync(join(project.root, 'components/score-model/component.yaml'), 'utf8');
    // helmet-build's schema lies outside this project: a path to it would name a file only this machine has.
    expect(spec).not.toContain('$schema');
    expect(spec.split('\n')[0]).toBe('name: Score model');
    // A unique image name, so the test never touches an image a user built.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(project.root, 'components/score-model/component.yaml'), spec.replace('image: score-model', `image: ${image}`));

    const built = await runCli(['build', 'score-model', '--build-arg', `BASE_IMAGE=${PYTHON}`], project.root);
    expect(built.code, built.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    const run = await runImage(report.components['score-model'].imageId, ['python3', '/app/score_model.py', '--message', 'works']);
    expect(run.output.trim()).toBe('score-model: works');
    // The spec and the test stay out of the image.
    expect((await runImage(report.components['score-model'].imageId, ['ls', '/app'])).output.split(/\s+/).filter(Boolean)).toEqual(['score_model.py']);
    const unit = await execa('python3', ['-m', 'unittest', 'discover', '-s', join(project.root, 'components/score-model'), '-p', 'test_*.py']);
    expect(unit.stderr).toMatch(/Ran 1 test.*\n\nOK/s);
  });

  it('refuses to overwrite, and refuses a name that is not a folder name: exit 2, nothing changed', async () => {
    const before = snapshotTree(project.root);
    const again = await runCli(['new', 'score-model'], project.root);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('components/score-model already exists; nothing was changed');
    const bad = await runCli(['new', 'Foo Bar'], project.root);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"Foo Bar" is not a component name');
    expect(snapshotTree(project.root)).toEqual(before);
  });
});

describe('push progress (real engine and registry)', () => {
  const prefix = uniqueName('itest-progress');
  const push = `${services.registry}/${prefix}`;
  const project = makeProject({
    // Each push builds its own random 3 MB layer (RUN varies with PASS), so every push uploads it.
    Dockerfile: `FROM helmet/busybox:latest\nARG PASS\nRUN head -c 3000000 /dev/urandom > /blob && echo ${prefix} $PASS\n`,
    'components/blob/component.yaml': 'name: blob\nimplementation:\n  container:\n    command: [ls, /blob]\nbuild:\n  image: blob\n  dockerfile: Dockerfile\n',
  });
  afterAll(async () => {
    await removeImages(push);
    project.cleanup();
  });
  // Not CI: the live view is for terminals, and CI=true (as this suite runs) asks for plain lines.
  const { CI: _ci, ...terminalEnv } = process.env;

  it('on a terminal, the push line counts bytes; plain output has a line per layer and no escape sequences', async () => {
    // `script` gives the CLI a pseudo-terminal and records everything written to it.
    const tty = spawnSync('script', ['-qfec', `stty cols 120; node ${BIN} -C ${project.root} all --push ${push} --build-arg PASS=tty`, '/dev/null'], {
      env: { ...terminalEnv, TERM: 'xterm' },
      encoding: 'utf8',
    });
    expect(tty.status, tty.stdout).toBe(0);
    expect(tty.stdout).toMatch(/\[blob\] pushing \d+(\.\d)? (KiB|MiB) \/ \d+(\.\d)? MiB \(\d\/\d layers\)/);
    expect(tty.stdout).toContain('\x1b[1A\x1b[2K');

    const plain = await runCli(['all', '--push', push, '--build-arg', 'PASS=json', '--json'], project.root);
    expect(plain.code).toBe(0);
    const layers = plain.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === 'push-progress' && e.finishedLayer && !e.finishedLayer.existed);
    // The 3 MB layer is among the layers pushed, with its size.
    expect(layers.some((e) => e.finishedLayer.bytes > 2_900_000 && e.totalBytes >= e.finishedLayer.bytes)).toBe(true);
    const lines = await runCli(['all', '--push', push, '--build-arg', 'PASS=plain'], project.root);
    expect(lines.stderr).toMatch(/\[blob\] {3}layer [0-9a-f]{12} pushed \(2\.\d MiB\)/);
    expect(lines.stderr).not.toContain('\x1b');
  });
});
