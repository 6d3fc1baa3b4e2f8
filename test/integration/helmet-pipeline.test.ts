/**
 * The helmet pipeline for real, offline, on Docker 26.1 (overlay2; the PyTorch base is 1.5 GB, which
 * vfs would copy per layer): a synthetic VOC data set served on loopback, ingest → prepare → train
 * (torchvision's SSDlite trained on the CPU, exported to ONNX) → rknn-convert (the model validated
 * for the NPU; no rknn-toolkit2 exists offline, so the step fails saying so). What the run leaves on
 * its volume is then checked outside the trainer: best.onnx in onnxruntime beside best.pt in PyTorch.
 * The trainer's and the converter's Python tests run in the same base, where they may not skip.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveFiles } from '../support/file-server.js';
import { makeProject, ndjson, runCli, withEnv } from '../support/project.js';
import { BUSYBOX, PYTHON, removeImages, runImage, uniqueName } from '../support/services.js';

const REPO = join(import.meta.dirname, '..', '..');
const engineHost = process.env.HELMET_MODERN_DOCKER_HOST;
const mlBase = process.env.HELMET_ML_BASE;
// Only an explicit opt-out of Docker 26.1 or of the PyTorch base leaves these tests out.
const optedOut = !!process.env.HELMET_SKIP_MODERN_ENGINE || !!process.env.HELMET_SKIP_ML_BASE;
if (!optedOut && (!engineHost || !mlBase)) {
  throw new Error('HELMET_MODERN_DOCKER_HOST or HELMET_ML_BASE is not set: start the services with scripts/services.sh up');
}
const engine = engineHost ? new Docker({ socketPath: engineHost.replace(/^unix:\/\//, '') }) : undefined;

/** Rebuilds the network from best.pt as the trainer saved it, runs one validation image through it and through best.onnx. */
const COMPARE_PY = `
import json, sys
from pathlib import Path
import numpy as np, onnxruntime, torch
sys.path.insert(0, "/app")
from ssdlite_model import ModelSettings, RawHeadOutputs, build_model
from torch_data import load_image
from torch_training import load_checkpoint
export = Path("/VOCdevkit/export")
doc = load_checkpoint(export / "best.pt")
settings = ModelSettings.from_dict(doc["settings"])
model = build_model(settings)
model.load_state_dict(doc["state_dict"])
net = RawHeadOutputs(model).eval()
voc = Path("/VOCdevkit/VOC2028")
first = (voc / "val.txt").read_text().split()[0]
image = load_image(str(voc / first), settings.image_size).unsqueeze(0)
with torch.no_grad():
    expected = [t.numpy() for t in net(image)]
session = onnxruntime.InferenceSession(str(export / "best.onnx"), providers=["CPUExecutionProvider"])
got = session.run(None, {session.get_inputs()[0].name: image.numpy()})
print(json.dumps({
    "input": [session.get_inputs()[0].name, session.get_inputs()[0].shape],
    "outputs": [[o.name, o.shape] for o in session.get_outputs()],
    "max_abs_diff": max(float(np.max(np.abs(e - g))) for e, g in zip(expected, got)),
    "image_size": settings.image_size,
}))
`;

describe.skipIf(optedOut)('the helmet pipeline trained for real (Docker 26.1, PyTorch base from Debian 13)', () => {
  const prefix = uniqueName('itest-helmet');
  const project = makeProject({});
  const data = mkdtempSync(join(tmpdir(), 'helmet-data-'));
  let server: { url: string; close: () => void } | undefined;
  let baseUrl: string;
  let volume: string | undefined;
  const onEngine = <T>(work: () => Promise<T>) => withEnv({ DOCKER_HOST: engineHost }, work);
  const buildArgs = () =>
    [
      `BASE_IMAGE=${PYTHON}`,
      `train:BASE_IMAGE=${mlBase}`,
      'train:FRAMEWORKS_FROM=base',
      `rknn-convert:BASE_IMAGE=${mlBase}`,
      'rknn-convert:FRAMEWORKS_FROM=base',
    ].flatMap((a) => ['--build-arg', a]);

  beforeAll(async () => {
    for (const part of ['components', 'dockerfiles', 'pipeline.yaml']) cpSync(join(REPO, part), join(project.root, part), { recursive: true });
    for (const c of ['ingest', 'prepare', 'train', 'rknn-convert']) {
      const file = join(project.root, 'components', c, 'component.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/image: helmet-/, `image: ${prefix}-`));
    }
    await execa('/usr/bin/python3', [join(REPO, 'scripts', 'make-helmet-data.py'), '--out', join(data, 'VOC2028.tar.gz'), '--images', '40', '--seed', '3']);
    const archive = readFileSync(join(data, 'VOC2028.tar.gz'));
    server = await serveFiles({ '/VOC2028.tar.gz': archive });
    baseUrl = server.url;
  });

  afterAll(async () => {
    server?.close();
    if (volume)
      await engine!
        .getVolume(volume)
        .remove({ force: true })
        .catch(() => undefined);
    if (engine) await removeImages(prefix, engine);
    project.cleanup();
    rmSync(data, { recursive: true, force: true });
  });

  it('ingest → prepare → train → rknn-convert: a detector trained on the CPU, exported, and validated for the NPU', async () => {
    const r = await onEngine(() =>
      runCli(
        [
          'run',
          ...buildArgs(),
          '--no-gpu',
          '--keep-volume',
          '--json',
          ...[`dataurl=${baseUrl}/VOC2028.tar.gz`, 'device=cpu', 'epochs=2', 'img=128', 'batch=8', 'workers=0'].flatMap((p) => ['--param', p]),
        ],
        project.root,
      ),
    );
    const events = ndjson(r.stdout);
    volume = events.find((e) => e.type === 'run-start')?.volume;
    const logs = events.filter((e) => e.type === 'job-log').map((e) => `[${e.subject}] ${e.line}`);
    // The step ran without the GPU it requests, and the user was told so.
    expect(events.some((e) => e.type === 'warning' && /train request a GPU; .* run on the CPU/.test(e.message))).toBe(true);
    expect(events.at(-1)?.steps, logs.slice(-30).join('\n')).toEqual([
      expect.objectContaining({ step: 'ingest', status: 'succeeded' }),
      expect.objectContaining({ step: 'prepare', status: 'succeeded' }),
      expect.objectContaining({ step: 'train', status: 'succeeded' }),
      // No rknn-toolkit2 offline: the model was validated, then the step failed naming what is missing.
      expect.objectContaining({ step: 'rknn-convert', status: 'failed', exitCode: 3 }),
    ]);
    expect(r.code).toBe(1);
    const rknnLog = logs.filter((l) => l.startsWith('[rknn-convert]')).join('\n');
    expect(rknnLog).toMatch(/was validated for rk3588 \(opset \d+, input images 1x3x128x128 float32/);
    expect(rknnLog).toContain('lacks rknn-toolkit2');
    expect(logs.some((l) => l.startsWith('[train] train: epoch 2'))).toBe(true);

    const exported = await runImage(BUSYBOX, ['sh', '-c', 'ls /VOCdevkit/export; cat /VOCdevkit/export/metrics.json'], { [volume!]: '/VOCdevkit' }, engine);
    expect(exported.output).not.toContain('model.rknn');
    const metrics = JSON.parse(exported.output.slice(exported.output.indexOf('{')));
    expect(metrics).toMatchObject({ framework: 'torchvision', image_size: 128, classes: ['hat', 'person'] });
    expect(metrics.val_images).toBeGreaterThan(0);
    expect(metrics.epochs).toHaveLength(2);
    const [first, second] = metrics.epochs;
    expect(Number.isFinite(first.train_loss) && Number.isFinite(second.train_loss)).toBe(true);
    expect(second.train_loss).not.toBe(first.train_loss);
    for (const e of metrics.epochs) expect(e.val_map50).toBeGreaterThanOrEqual(0), expect(e.val_map50).toBeLessThanOrEqual(1);
    expect(metrics.map50).toBe(metrics.epochs[metrics.best_epoch - 1].val_map50);

    // Outside the trainer: best.pt rebuilt in PyTorch and best.onnx in onnxruntime agree on a validation image.
    const trainImage = events.find((e) => e.type === 'job-started' && e.subject === 'train' && e.kind === 'step')?.title?.replace(/^running /, '');
    expect(trainImage).toBeTruthy();
    const compared = await runImage(trainImage, ['python3', '-c', COMPARE_PY], { [volume!]: '/VOCdevkit' }, engine);
    expect(compared.exitCode, compared.output).toBe(0);
    const check = JSON.parse(compared.output.trim().split('\n').at(-1)!);
    expect(check.input[1]).toEqual([1, 3, 128, 128]);
    expect(check.max_abs_diff).toBeLessThan(1e-3);
  }, 600_000);

  it("the trainer's and the converter's Python tests pass in the PyTorch base, none skipped", async () => {
    // Under /tmp: Docker 26.1 runs in a root of its own that sees the host's /tmp at the same path.
    const copy = mkdtempSync(join('/tmp', 'helmet-pytests-'));
    try {
      // The project's layout: the trainer's tests read what components/prepare writes from test/fixtures/voc.
      for (const part of ['components', 'test/fixtures/voc']) cpSync(join(REPO, part), join(copy, part), { recursive: true });
      for (const c of ['train', 'rknn-convert']) {
        const r = await runImage(
          mlBase!,
          ['env', 'HELMET_REQUIRE_ML=1', 'python3', '-m', 'unittest', 'discover', '-s', `/project/components/${c}`, '-p', 'test_*.py', '-v'],
          { [copy]: '/project' },
          engine,
        );
        expect(r.exitCode, r.output).toBe(0);
        expect(r.output).toMatch(/\nOK\n/);
        expect(r.output).not.toMatch(/skipped/i);
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 300_000);
});
