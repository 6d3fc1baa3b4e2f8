import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveFiles } from '../support/file-server.js';
import { makeProject, runCli } from '../support/project.js';
import { BUSYBOX, docker, PYTHON, removeImages, runImage, uniqueName } from '../support/services.js';

const REPO = join(import.meta.dirname, '..', '..');
const VOC_FIXTURE = join(REPO, 'test', 'fixtures', 'voc');

async function python(code: string): Promise<Buffer> {
  const r = await execa('python3', ['-c', code], { cwd: VOC_FIXTURE, encoding: 'buffer' });
  return Buffer.from(r.stdout);
}

/**
 * End to end on the real engine: the project's own ingest and prepare components, built from the
 * local Python base, run by `helmet-build run` against a loopback HTTP server serving a tiny VOC archive.
 */
describe('helmet-build run (real engine, real components)', () => {
  const prefix = uniqueName('itest-run');
  const project = makeProject({});
  let server: { url: string; close: () => void } | undefined;
  let baseUrl: string;
  let expectedLabels: Record<string, string>;
  const volumes: string[] = [];

  beforeAll(async () => {
    for (const part of ['components', 'dockerfiles', 'pipeline.yaml']) cpSync(join(REPO, part), join(project.root, part), { recursive: true });
    // Unique image names, so the test never touches images a user built from this checkout.
    for (const c of ['ingest', 'prepare', 'train', 'rknn-convert']) {
      const file = join(project.root, 'components', c, 'component.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/image: helmet-/, `image: ${prefix}-`));
    }
    const archive = await python('import sys, voc_fixture; sys.stdout.buffer.write(voc_fixture.voc_tar_gz())');
    expectedLabels = JSON.parse((await python('import json, voc_fixture; print(json.dumps(voc_fixture.EXPECTED_LABELS))')).toString());
    server = await serveFiles({ '/VOC2028.tar.gz': archive });
    baseUrl = server.url;
  });

  afterAll(async () => {
    server?.close();
    for (const v of volumes)
      await docker
        .getVolume(v)
        .remove({ force: true })
        .catch(() => undefined);
    await removeImages(prefix);
    project.cleanup();
  });

  const run = (...extra: string[]) => runCli(['run', '--build-arg', `BASE_IMAGE=${PYTHON}`, '--skip-step', 'train', '--json', ...extra], project.root);
  const events = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  it('runs ingest and prepare in containers on a shared volume; the labels are those the unit tests expect', async () => {
    const r = await run('--param', `dataurl=${baseUrl}/VOC2028.tar.gz`, '--keep-volume');
    const ev = events(r.stdout);
    const result = ev.at(-1);
    const volume: string = ev.find((e) => e.type === 'run-start').volume;
    volumes.push(volume);
    expect(result.steps).toEqual([
      { step: 'ingest', status: 'succeeded', exitCode: 0, seconds: expect.any(Number) },
      { step: 'prepare', status: 'succeeded', exitCode: 0, seconds: expect.any(Number) },
      { step: 'train', status: 'skipped', reason: 'skipped with --skip-step' },
      { step: 'rknn-convert', status: 'skipped', reason: 'runs after a skipped step (train)' },
    ]);
    expect(r.code).toBe(0);
    expect(ev.filter((e) => e.type === 'job-log' && e.kind === 'step' && e.subject === 'prepare').map((e) => e.line)).toContain(
      'prepare: 5 images, 5 objects -> 4 train / 1 val',
    );

    const listing = await runImage(BUSYBOX, ['sh', '-c', 'cd /VOCdevkit/VOC2028/labels && for f in *.txt; do echo "== $f"; cat "$f"; done'], {
      [volume]: '/VOCdevkit',
    });
    const labels: Record<string, string> = {};
    for (const block of listing.output.split('== ').filter(Boolean)) {
      const nl = block.indexOf('\n');
      labels[block.slice(0, nl).replace(/\.txt$/, '')] = block.slice(nl + 1);
    }
    expect(labels).toEqual(expectedLabels);
  });

  it('a failing step stops its dependants, exits 1 with its exit code and last lines, and removes the volume', async () => {
    const r = await run('--param', `dataurl=${baseUrl}/missing.tar.gz`);
    const ev = events(r.stdout);
    expect(r.code).toBe(1);
    const failed = ev.find((e) => e.type === 'job-finished' && e.outcome === 'failed');
    expect(failed).toMatchObject({ kind: 'step', subject: 'ingest', error: { code: 'STEP_FAILED', message: 'step ingest exited with code 1' } });
    expect(failed.error.detail.join('\n')).toContain('HTTP 404');
    expect(ev.find((e) => e.type === 'job-finished' && e.outcome === 'skipped' && e.subject === 'prepare').summary).toBe(
      'runs after ingest, which did not succeed',
    );
    expect(ev.at(-1).steps[0]).toMatchObject({ step: 'ingest', status: 'failed', exitCode: 1 });
    const volume = ev.find((e) => e.type === 'run-start').volume;
    expect(ev.some((e) => e.type === 'volume-removed' && e.volume === volume)).toBe(true);
    await expect(docker.getVolume(volume).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('a GPU step on an engine without GPUs: exit 2 before anything runs, saying how to run it on the CPU or skip it', async () => {
    const r = await runCli(['run', '--param', `dataurl=${baseUrl}/VOC2028.tar.gz`], project.root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('step(s) train request a GPU, but this Docker engine offers none');
    // The trainer takes its device from the pipeline parameter `device`: the hint names it.
    expect(r.stderr).toContain('--no-gpu --param device=cpu');
    expect(r.stderr).toContain('--skip-step train');
    expect(r.stderr).not.toContain('[ingest] running');
  });
});
