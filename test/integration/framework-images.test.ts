import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, runCli } from '../support/project.js';
import { docker, PYTHON, removeImages, runImage, uniqueName } from '../support/services.js';

const REPO = join(import.meta.dirname, '..', '..');

/**
 * Offline, train and rknn-convert build from the local Python base without their frameworks: the
 * image says so in a label, and its entrypoint fails at once naming what is missing.
 */
describe('framework images built offline', () => {
  const prefix = uniqueName('itest-fw');
  const project = makeProject({});
  afterAll(async () => {
    await removeImages(prefix);
    project.cleanup();
  });

  it('build, carry io.helmet.frameworks-absent, and fail at start with a clear message', async () => {
    for (const part of ['components/train', 'components/rknn-convert', 'dockerfiles']) cpSync(join(REPO, part), join(project.root, part), { recursive: true });
    for (const c of ['train', 'rknn-convert']) {
      const file = join(project.root, 'components', c, 'component.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/image: helmet-/, `image: ${prefix}-`));
    }
    const r = await runCli(
      [
        'all',
        '--build-arg',
        `BASE_IMAGE=${PYTHON}`,
        '--build-arg',
        'train:ABSENT_FRAMEWORKS=ultralytics,torch',
        '--build-arg',
        'rknn-convert:ABSENT_FRAMEWORKS=rknn-toolkit2',
      ],
      project.root,
    );
    expect(r.stderr).not.toContain('FAILED');
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components;

    const train = await docker.getImage(report.train.imageId).inspect();
    expect(train.Config.Labels['io.helmet.frameworks-absent']).toBe('ultralytics,torch');
    const trainRun = await runImage(report.train.imageId, [
      'python3',
      '/app/train_pipeline.py',
      '--epoch',
      '1',
      '--device',
      'cpu',
      '--workers',
      '0',
      '--output_dir',
      '/tmp/out',
    ]);
    expect(trainRun.exitCode).toBe(3);
    // Neither framework: both are named, each with the way to get it.
    expect(trainRun.output).toContain('train: error: no training framework: this image lacks ultralytics');
    expect(trainRun.output).toContain('lacks torch, torchvision, onnx, onnxruntime');

    const rknn = await docker.getImage(report['rknn-convert'].imageId).inspect();
    expect(rknn.Config.Labels['io.helmet.frameworks-absent']).toBe('rknn-toolkit2');
    const rknnRun = await runImage(report['rknn-convert'].imageId, ['python3', '/app/convert.py', '--model', '/x.onnx', '--output', '/x.rknn']);
    expect(rknnRun.exitCode).toBe(3);
    expect(rknnRun.output).toContain('rknn-convert: error: this image lacks rknn-toolkit2');
    // The tests and caches stay out of the image.
    const app = (await runImage(report.train.imageId, ['ls', '/app'])).output.split('\n').filter(Boolean);
    expect(app).toEqual(expect.arrayContaining(['requirements.txt', 'train_pipeline.py', 'torchvision_backend.py', 'ultralytics_backend.py']));
    expect(app.filter((f) => f.startsWith('test_') || f === 'component.yaml' || f === '__pycache__')).toEqual([]);
  });
});
