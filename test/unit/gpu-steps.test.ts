import { afterEach, describe, expect, it } from 'vitest';
import type { RunRequest } from '../../src/engine/engine-client.js';
import { UsageError } from '../../src/errors.js';
import type { HelmetEvent } from '../../src/events.js';
import { runPipeline } from '../../src/flow/run.js';
import { FakeWorld } from '../support/fake-world.js';
import { makeProject, TINY_DOCKERFILE } from '../support/project.js';

/** A trainer that takes its device from the pipeline parameter `device` and asks for one GPU. */
const FILES = {
  ...TINY_DOCKERFILE,
  'components/trainer/component.yaml': [
    'name: trainer',
    'inputs:',
    '  - {name: device, type: String, default: "0"}',
    'implementation:',
    '  container:',
    '    command: [/bin/sh, /app/main.sh]',
    '    args: [--device, {inputValue: device}]',
    'build: {image: trainer, dockerfile: dockerfiles/tiny.Dockerfile}',
    '',
  ].join('\n'),
  'components/trainer/main.sh': 'echo training\n',
  'pipeline.yaml': [
    'name: gpu',
    'parameters:',
    '  device: {type: String, default: "0"}',
    'steps:',
    '  train:',
    '    component: trainer',
    '    args: {device: {param: device}}',
    '    resources: {gpu: 1}',
    '',
  ].join('\n'),
};

describe('steps that request a GPU', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  async function run(engineHasGpus: boolean, options: { withoutGpus?: boolean; params?: Record<string, string> } = {}) {
    const project = makeProject(FILES);
    cleanups.push(project.cleanup);
    const world = new FakeWorld();
    const requests: RunRequest[] = [];
    world.engine.hasGpuSupport = async () => engineHasGpus;
    // The step's image is the one the run just built; the fake names it differently, so a pull stands in for the lookup.
    world.engine.pullImage = async () => {};
    world.engine.runContainer = async (req: RunRequest) => {
      requests.push(req);
      return 0;
    };
    const events: HelmetEvent[] = [];
    const result = runPipeline({ root: project.root, ...options }, world.deps(events));
    return { result, requests, events };
  }

  it('get it through the engine (a device request) when the engine has the NVIDIA runtime', async () => {
    const { result, requests } = await run(true);
    expect((await result).ok).toBe(true);
    expect(requests.map((r) => [r.gpus, r.cmd])).toEqual([[1, ['--device', '0']]]);
  });

  it('stop the run before any step on an engine without GPUs, naming --no-gpu with the device parameter, and --skip-step', async () => {
    const { result, requests } = await run(false);
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe('step(s) train request a GPU, but this Docker engine offers none (no NVIDIA runtime)');
    expect((error as UsageError).hint).toContain('Run them on the CPU with --no-gpu --param device=cpu, skip them with --skip-step train');
    expect(requests).toEqual([]);
  });

  it('run on the CPU with --no-gpu: no device request, the parameter as given, and a warning that says so', async () => {
    const { result, requests, events } = await run(false, { withoutGpus: true, params: { device: 'cpu' } });
    expect((await result).ok).toBe(true);
    expect(requests.map((r) => [r.gpus, r.cmd])).toEqual([[undefined, ['--device', 'cpu']]]);
    expect(events).toContainEqual({
      type: 'warning',
      message: 'step(s) train request a GPU; this Docker engine offers none, so they run on the CPU (--no-gpu)',
    });
  });
});
