/**
 * `run` as one flow: load pipeline.yaml and check it can run here (parameters, skipped steps,
 * GPUs, {executorInput}); build or reuse the step images through the build flow; then run the
 * steps as jobs on the same job graph as builds — a step starts once the steps it runs after
 * succeeded, independent steps run at once (bounded), a failed or skipped step skips its
 * dependants. A named volume stands in for the PVC; a run folder carries the files steps pass.
 */
import { randomBytes } from 'node:crypto';
import type { EngineClient } from '../engine/engine-client.js';
import { EngineUnreachableError, ExitCode, InterruptedError, StepFailedError, UsageError, worstExitCode } from '../errors.js';
import type { EventListener } from '../events.js';
import { ignoreEvents } from '../events.js';
import { DagExecutor, type Job } from '../jobs/dag.js';
import { succeeded } from '../model/component-result.js';
import type { Pipeline, PipelineStep, Project } from '../project/model.js';
import { resolveParameters } from '../project/pipeline-parameters.js';
import { openProject } from '../project/project-cache.js';
import type { CredentialSource } from '../registry/credentials.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { checkExecutorInput, skippedSteps } from '../runner/parameters.js';
import { RunFiles } from '../runner/run-files.js';
import { runStepContainer } from '../runner/step-container.js';
import { type BuildOptions, runBuild } from './build.js';

export interface RunOptions
  extends Pick<BuildOptions, 'push' | 'buildArgs' | 'componentBuildArgs' | 'secrets' | 'ssh' | 'concurrency' | 'builder' | 'buildNetwork' | 'contextTransfer'> {
  root: string;
  /** `--param k=v` overrides of pipeline parameters. */
  params?: Record<string, string>;
  /** Steps not to run; the steps after them are skipped too. */
  skipSteps?: string[];
  keepVolume?: boolean;
  /** Network mode of the step containers. @default host (so steps reach services on this machine) */
  network?: string;
  /** Steps running at once. @default 2 */
  parallelSteps?: number;
  /** Run the steps that request GPUs without them on an engine that has none (`--no-gpu`). */
  withoutGpus?: boolean;
  signal?: AbortSignal;
}

export type StepStatus = 'succeeded' | 'failed' | 'skipped';

export interface StepResult {
  step: string;
  status: StepStatus;
  exitCode?: number;
  reason?: string;
  seconds?: number;
}

export interface RunResult {
  ok: boolean;
  exitCode: number;
  volume?: string;
  steps: StepResult[];
}

export interface RunDeps {
  engine: EngineClient;
  registry: RegistryApi;
  credentials: CredentialSource;
  onEvent?: EventListener;
}

export async function runPipeline(options: RunOptions, deps: RunDeps): Promise<RunResult> {
  const emit = deps.onEvent ?? ignoreEvents;
  const project = await openProject(options.root);
  const pipeline = project.pipeline;
  if (!pipeline) throw new UsageError(`no pipeline.yaml in ${project.root}`, { hint: 'Declare the steps in pipeline.yaml at the project root.' });
  const params = resolveParameters(pipeline, options.params ?? {});
  const skip = skippedSteps(pipeline, options.skipSteps ?? []);
  const toRun = pipeline.steps.filter((s) => !skip.has(s.name));
  checkExecutorInput(toRun);
  await deps.engine.ping();
  const gpus = await gpusOfSteps(deps.engine, toRun, options.withoutGpus ?? false, emit);

  const images = await stepImages(project, toRun, options, deps);
  if ('failed' in images) return images.failed;

  const volume = pipeline.volume ? `${pipeline.name}-run-${randomBytes(3).toString('hex')}` : undefined;
  if (volume) await deps.engine.createVolume(volume, { 'io.helmet.pipeline': pipeline.name });
  emit({ type: 'run-start', pipeline: pipeline.name, volume, steps: pipeline.steps.map((s) => s.name), parameters: params });
  const files = RunFiles.forPipeline(pipeline);
  try {
    const run = { pipeline, params, images: images.ok, volume, files, skip, gpus };
    const steps = await runSteps(run, options, deps, emit);
    const interrupted = options.signal?.aborted ?? false;
    const failed = steps.some((s) => s.status === 'failed');
    return {
      ok: !failed && !interrupted,
      exitCode: interrupted ? ExitCode.interrupted : worstExitCode(failed ? [ExitCode.failed] : []),
      volume: options.keepVolume ? volume : undefined,
      steps,
    };
  } finally {
    if (files) {
      emit({ type: 'run-outputs', folder: files.folder, kept: options.keepVolume === true, files: files.list(pipeline) });
      if (!options.keepVolume) files.remove();
    }
    if (volume) {
      if (options.keepVolume) emit({ type: 'volume-kept', volume });
      else {
        await deps.engine.removeVolume(volume).catch(() => undefined);
        emit({ type: 'volume-removed', volume });
      }
    }
  }
}

/** The images of the steps to run, built or reused as `build` would; a failed image fails its step before anything runs. */
async function stepImages(
  project: Project,
  toRun: PipelineStep[],
  options: RunOptions,
  deps: RunDeps,
): Promise<{ ok: Map<string, string> } | { failed: RunResult }> {
  const built = await runBuild(
    {
      root: project.root,
      project,
      components: [...new Set(toRun.map((s) => s.component.name))],
      push: options.push,
      buildArgs: options.buildArgs,
      componentBuildArgs: options.componentBuildArgs,
      secrets: options.secrets,
      ssh: options.ssh,
      concurrency: options.concurrency,
      builder: options.builder,
      contextTransfer: options.contextTransfer,
      buildNetwork: options.buildNetwork,
      signal: options.signal,
      writeOutputs: false,
    },
    deps,
  );
  const images = new Map<string, string>();
  const failedImages: StepResult[] = [];
  for (const r of built.results) {
    if (succeeded(r)) images.set(r.component, r.image);
    else failedImages.push({ step: r.component, status: 'failed', reason: `image: ${r.error.message}` });
  }
  return built.ok ? { ok: images } : { failed: { ok: false, exitCode: built.exitCode, steps: failedImages } };
}

/** What every step of a run shares. */
interface StepsRun {
  pipeline: Pipeline;
  params: Record<string, string>;
  images: Map<string, string>;
  volume: string | undefined;
  files: RunFiles | undefined;
  skip: Set<string>;
  /** Whether step containers get the GPUs their steps request. */
  gpus: boolean;
}

/** The steps on one DAG (a step after the steps it names), each in its container; a result per step. */
async function runSteps(run: StepsRun, options: RunOptions, deps: RunDeps, emit: EventListener): Promise<StepResult[]> {
  const { pipeline, images, skip } = run;
  const jobs = new Map<string, Job<number>>();
  for (const step of pipeline.steps) {
    jobs.set(step.name, {
      id: `step:${step.name}`,
      kind: 'step',
      subject: step.name,
      title: `running ${images.get(step.component.name) ?? step.component.name}`,
      // pipeline.yaml lists steps after the ones they run after (checked at load time).
      needs: step.after.flatMap((d) => jobs.get(d) ?? []),
      ...(skip.has(step.name) && options.skipSteps?.includes(step.name) ? { excluded: 'skipped with --skip-step' } : {}),
      run: async (ctx) => {
        const image = images.get(step.component.name);
        if (!image) throw new Error(`no image for step ${step.name}`);
        const container = { ...run, step, image, network: options.network ?? 'host', signal: options.signal };
        const exitCode = await runStepContainer(container, deps, ctx);
        return { result: exitCode, summary: 'succeeded' };
      },
    });
  }
  const reports = await new DagExecutor({ step: options.parallelSteps ?? 2 }, emit, options.signal).run([...jobs.values()]);
  return pipeline.steps.map((step): StepResult => {
    const r = reports.of(jobs.get(step.name)!);
    if (r.outcome === 'succeeded') return { step: step.name, status: 'succeeded', exitCode: 0, seconds: r.seconds };
    if (r.outcome === 'skipped') return { step: step.name, status: 'skipped', reason: r.summary };
    if (r.error instanceof EngineUnreachableError) throw r.error;
    return {
      step: step.name,
      status: r.error instanceof InterruptedError ? 'skipped' : 'failed',
      ...(r.error instanceof StepFailedError ? { exitCode: r.error.stepExitCode } : {}),
      seconds: r.seconds,
      reason: r.error.message,
    };
  });
}

/**
 * Whether the steps that request GPUs get them: checked before anything runs. On an engine without
 * GPUs they run without them only when asked (`--no-gpu`), since a step told to use CUDA would fail late.
 */
async function gpusOfSteps(engine: EngineClient, toRun: PipelineStep[], withoutGpus: boolean, emit: EventListener): Promise<boolean> {
  const wanting = toRun.filter((s) => s.resources?.gpu);
  if (wanting.length === 0 || (await engine.hasGpuSupport())) return true;
  const names = wanting.map((s) => s.name).join(', ');
  if (withoutGpus) {
    emit({ type: 'warning', message: `step(s) ${names} request a GPU; this Docker engine offers none, so they run on the CPU (--no-gpu)` });
    return false;
  }
  const tellThem = wanting
    .flatMap(deviceParameter)
    .map((p) => ` --param ${p}=cpu`)
    .join('');
  throw new UsageError(`step(s) ${names} request a GPU, but this Docker engine offers none (no NVIDIA runtime)`, {
    hint:
      `Run them on the CPU with --no-gpu${tellThem}, skip them with ${wanting.map((s) => `--skip-step ${s.name}`).join(' ')} ` +
      '(steps after them are skipped too), or run on an engine with GPUs.',
  });
}

/** The pipeline parameter a step passes to its `device` input (how the helmet trainer picks CUDA or the CPU), if any. */
function deviceParameter(step: PipelineStep): string[] {
  const arg = step.args.device;
  return arg?.kind === 'parameter' ? [arg.parameter] : [];
}
