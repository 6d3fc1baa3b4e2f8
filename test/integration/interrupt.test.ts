import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, snapshotTree } from '../support/project.js';
import { docker, removeImages, uniqueName } from '../support/services.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'helmet-build.js');

/** A step length no other test uses, so the step's process can be found by its command line. */
const SLOW_STEP_SECONDS: Record<string, number> = { buildkit: 59, classic: 58 };

/**
 * Whether no process on this machine runs a command line ending in `command` (waiting up to 10 s for
 * it to end): anchored, so that `sleep 59` is not taken for an unrelated `sleep 590`.
 */
async function gone(command: string): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const r = spawnSync('pgrep', ['-f', `${command}$`]);
    if (r.error) throw r.error;
    if (r.status !== 0) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/**
 * The containers whose command contains `command`, once the engine is done removing them (up to 10 s):
 * after a cancelled classic build the engine removes the step's container on its own, and Docker 26.1
 * does so a moment (~0.2 s) after the client has gone.
 */
async function containersLeft(command: string): Promise<Docker.ContainerInfo[]> {
  for (let i = 0; ; i++) {
    const left = (await docker.listContainers({ all: true })).filter((c) => c.Command.includes(command));
    if (left.length === 0 || i === 50) return left;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Ctrl-C during `helmet-build run`: the running container and the volume are removed, exit 130. */
describe('interrupting a run', () => {
  const image = uniqueName('itest-sigint');
  const project = makeProject({
    Dockerfile: 'FROM helmet/busybox:latest\n',
    'components/sleeper/component.yaml': `name: sleeper\nimplementation:\n  container:\n    command: [sh, -c, 'echo sleeping; sleep 60']\nbuild:\n  image: ${image}\n  dockerfile: Dockerfile\n`,
    'pipeline.yaml':
      'name: sleepy\nvolume: {name: data, size: 1Gi, mountPath: /data}\nsteps:\n  nap: {component: sleeper}\n  after-nap: {component: sleeper, after: [nap]}\n',
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
    const events = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(code).toBe(130);
    const volume = events.find((e) => e.type === 'run-start').volume;
    expect(events.some((e) => e.type === 'volume-removed' && e.volume === volume)).toBe(true);
    expect(events.find((e) => e.type === 'job-finished' && e.subject === 'after-nap')).toMatchObject({ outcome: 'skipped', summary: 'interrupted' });
    await expect(docker.getVolume(volume).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const left = await docker.listContainers({ all: true, filters: { label: ['io.helmet.pipeline=sleepy'] } });
    expect(left).toEqual([]);
  });

  it.each(['buildkit', 'classic'])(
    'Ctrl-C during a %s build cancels it in the engine: exit 130, no build container left, dist/ byte-identical',
    async (builder) => {
      const slow = makeProject({
        Dockerfile: `FROM helmet/busybox:latest\nRUN echo started && sleep ${SLOW_STEP_SECONDS[builder]}\n`,
        'components/slow/component.yaml': `name: slow\nimplementation:\n  container:\n    command: [sh]\nbuild:\n  image: ${image}-slow-${builder}\n  dockerfile: Dockerfile\n`,
        // The record of an earlier good run, which an interrupted run must not touch.
        'dist/build.json': '{"version": 2, "earlier": true}\n',
        'dist/components/slow/component.yaml': 'name: slow\n# earlier\n',
      });
      const before = snapshotTree(join(slow.root, 'dist'));
      try {
        const child = spawn('node', [BIN, '-C', slow.root, 'all', '-v', '--builder', builder], { env: process.env });
        let stderr = '';
        await new Promise<void>((resolve) =>
          child.stderr.on('data', (d: Buffer) => {
            stderr += d.toString();
            if (stderr.includes('[slow]   started')) resolve();
          }),
        );
        const t0 = Date.now();
        child.kill('SIGINT');
        const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
        expect(code).toBe(130);
        expect(Date.now() - t0).toBeLessThan(20_000);
        expect(stderr).toContain('interrupted: 1 failed');
        expect(snapshotTree(join(slow.root, 'dist'))).toEqual(before);
        // No RUN step outlives the cancel: BuildKit runs it as a process under the engine, the classic builder in a container.
        expect(await gone(`sleep ${SLOW_STEP_SECONDS[builder]}`)).toBe(true);
        expect(await containersLeft(`sleep ${SLOW_STEP_SECONDS[builder]}`)).toEqual([]);
      } finally {
        slow.cleanup();
      }
    },
  );
});
