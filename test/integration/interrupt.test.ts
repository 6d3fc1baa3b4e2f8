import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject } from '../support/project.js';
import { docker, removeImages, uniqueName } from '../support/services.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'helmet-build.js');

/** Ctrl-C during `helmet-build run`: the running container and the volume are removed, exit 130. */
describe('interrupting a run', () => {
  const image = uniqueName('itest-sigint');
  const project = makeProject({
    'Dockerfile': 'FROM helmet/busybox:latest\n',
    'components/sleeper/component.yaml': `name: sleeper\nimplementation:\n  container:\n    command: [sh, -c, 'echo sleeping; sleep 60']\nbuild:\n  image: ${image}\n  dockerfile: Dockerfile\n`,
    'pipeline.yaml': 'name: sleepy\nvolume: {name: data, size: 1Gi, mountPath: /data}\nsteps:\n  nap: {component: sleeper}\n  after-nap: {component: sleeper, after: [nap]}\n',
  });
  afterAll(async () => {
    await removeImages(image);
    project.cleanup();
  });

  it('exits 130, stops the step, removes its container and the volume, and runs nothing after it', async () => {
    const child = spawn('node', [BIN, '-C', project.root, 'run', '--json'], { env: process.env });
    let stdout = '';
    const started = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('"line":"sleeping"')) resolve();
      }),
    );
    await started;
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const events = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(code).toBe(130);
    const volume = events.find((e) => e.type === 'run-start').volume;
    expect(events.some((e) => e.type === 'volume-removed' && e.volume === volume)).toBe(true);
    expect(events.find((e) => e.type === 'step-skipped' && e.step === 'after-nap').reason).toBe('interrupted');
    await expect(docker.getVolume(volume).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const left = await docker.listContainers({ all: true, filters: { label: ['io.helmet.pipeline=sleepy'] } });
    expect(left).toEqual([]);
  });
});
