import { randomBytes } from 'node:crypto';
import type { EngineClient } from '../engine/engine-client.js';
import { ConfigError, EngineUnreachableError, ExitCode, UsageError, errorMessage } from '../errors.js';
import type { EventListener } from '../events.js';
import { ignoreEvents } from '../events.js';
import type { BuildDeps, BuildOptions, BuildRun } from '../plan/build-run.js';
import { loadPipeline, resolveParameters, type Pipeline } from '../project/pipeline.js';
import { findProjectRoot, loadProject, type Component, type Project } from '../project/project.js';
import { engineAuth } from '../registry/credentials.js';
import { parseImageRef } from '../registry/image-ref.js';
import { resolveCommandLine } from './resolve-args.js';

const LAST_LINES = 20;

export interface RunOptions extends Pick<BuildOptions, 'push' | 'buildArgs' | 'componentBuildArgs' | 'concurrency'> {
  root: string;
  /** `--param k=v` overrides of pipeline parameters. */
  params?: Record<string, string>;
  /** Steps not to run; their dependants are skipped too. */
  skipSteps?: string[];
  keepVolume?: boolean;
  /** Network mode of the step containers. @default host (so steps reach services on this machine) */
  network?: string;
  signal?: AbortSignal;
}

export type StepStatus = 'succeeded' | 'failed' | 'skipped';

export interface StepResult {
  step: string;
  status: StepStatus;
  exitCode?: number;
  reason?: string;
  seconds?: number;
  lastLines?: string[];
}

export interface RunResult {
  ok: boolean;
  exitCode: number;
  volume?: string;
  steps: StepResult[];
}

export interface RunDeps {
  engine: EngineClient;
  /** Builds (or reuses) the images the steps run. */
  build: Pick<BuildRun, 'run'>;
  credentials: BuildDeps['credentials'];
  onEvent?: EventListener;
}

/**
 * Run pipeline.yaml on the local Docker engine: a named volume stands in for the PVC, each step is
 * a container from its built image, steps run in dependency order, a failed step stops its dependants.
 */
export class PipelineRun {
  private readonly emit: EventListener;

  constructor(private readonly deps: RunDeps) {
    this.emit = deps.onEvent ?? ignoreEvents;
  }

  async run(options: RunOptions): Promise<RunResult> {
    const project = loadProject(findProjectRoot(options.root));
    const pipeline = loadPipeline(project);
    const params = resolveParameters(pipeline, options.params ?? {});
    const skip = this.skippedSteps(pipeline, options.skipSteps ?? []);
    const toRun = pipeline.order.filter((s) => !skip.has(s));
    await this.deps.engine.ping();
    await this.checkGpus(pipeline, toRun);

    const components = [...new Set(toRun.map((s) => pipeline.spec.steps[s]!.component))];
    const images = await this.buildImages(project, components, options);
    if (!(images instanceof Map)) return images;

    const volume = `${pipeline.spec.name}-run-${randomBytes(3).toString('hex')}`;
    const mountPath = pipeline.spec.volume?.mountPath;
    if (mountPath) await this.deps.engine.createVolume(volume, { 'io.helmet.pipeline': pipeline.spec.name });
    this.emit({ type: 'run-start', pipeline: pipeline.spec.name, volume, steps: pipeline.order, parameters: params });

    const results = new Map<string, StepResult>();
    try {
      for (const step of pipeline.order) {
        results.set(step, await this.runStep(project, pipeline, step, params, skip, results, images, volume, options));
      }
    } finally {
      if (mountPath) {
        if (options.keepVolume) this.emit({ type: 'volume-kept', volume });
        else {
          await this.deps.engine.removeVolume(volume).catch(() => undefined);
          this.emit({ type: 'volume-removed', volume });
        }
      }
    }
    const steps = pipeline.order.map((s) => results.get(s)!);
    const interrupted = options.signal?.aborted ?? false;
    const failed = steps.some((s) => s.status === 'failed');
    return {
      ok: !failed && !interrupted,
      exitCode: interrupted ? ExitCode.interrupted : failed ? ExitCode.failed : ExitCode.ok,
      volume: mountPath ? volume : undefined,
      steps,
    };
  }

  /** Explicitly skipped steps and, transitively, every step that runs after one. */
  private skippedSteps(pipeline: Pipeline, names: string[]): Set<string> {
    const unknown = names.filter((n) => !(n in pipeline.spec.steps));
    if (unknown.length) {
      throw new UsageError(`--skip-step names unknown step(s): ${unknown.join(', ')}`, { hint: `Steps: ${pipeline.order.join(', ')}` });
    }
    const skip = new Set(names);
    for (const step of pipeline.order) {
      if (pipeline.spec.steps[step]!.after.some((d) => skip.has(d))) skip.add(step);
    }
    return skip;
  }

  private async checkGpus(pipeline: Pipeline, toRun: string[]): Promise<void> {
    const wanting = toRun.filter((s) => pipeline.spec.steps[s]!.resources?.gpu);
    if (wanting.length === 0 || (await this.deps.engine.hasGpuSupport())) return;
    throw new UsageError(`step(s) ${wanting.join(', ')} request a GPU, but this Docker engine offers none (no NVIDIA runtime)`, {
      hint: `Skip them with ${wanting.map((s) => `--skip-step ${s}`).join(' ')} (steps after them are skipped too), or run on an engine with GPUs.`,
    });
  }

  private async buildImages(project: Project, components: string[], options: RunOptions): Promise<Map<string, string> | RunResult> {
    const built = await this.deps.build.run({
      root: project.root,
      components,
      push: options.push,
      buildArgs: options.buildArgs,
      componentBuildArgs: options.componentBuildArgs,
      concurrency: options.concurrency,
      signal: options.signal,
      writeOutputs: false,
    });
    if (!built.ok) {
      return {
        ok: false,
        exitCode: built.exitCode,
        steps: built.results
          .filter((r) => r.error)
          .map((r) => ({ step: r.component, status: 'failed' as const, reason: `image: ${r.error!.message}` })),
      };
    }
    return new Map(built.results.filter((r) => r.image).map((r) => [r.component, r.image!]));
  }

  private async runStep(
    project: Project,
    pipeline: Pipeline,
    step: string,
    params: Record<string, string>,
    skip: Set<string>,
    done: Map<string, StepResult>,
    images: Map<string, string>,
    volume: string,
    options: RunOptions,
  ): Promise<StepResult> {
    const spec = pipeline.spec.steps[step]!;
    const skipped = (reason: string): StepResult => {
      this.emit({ type: 'step-skipped', step, reason });
      return { step, status: 'skipped', reason };
    };
    if (options.signal?.aborted) return skipped('interrupted');
    if (skip.has(step)) {
      return skipped((options.skipSteps ?? []).includes(step) ? 'skipped with --skip-step' : `runs after a skipped step (${spec.after.filter((d) => skip.has(d)).join(', ')})`);
    }
    const failedDeps = spec.after.filter((d) => done.get(d)?.status !== 'succeeded');
    if (failedDeps.length) return skipped(`runs after ${failedDeps.join(', ')}, which did not succeed`);

    const component = project.components.find((c) => c.name === spec.component)!;
    const image = images.get(component.name)!;
    const values = inputValues(component, spec.args, params);
    const container = component.spec.implementation.container;
    let entrypoint: string[] | undefined;
    let cmd: string[] | undefined;
    try {
      entrypoint = resolveCommandLine(container.command, values, component.file);
      cmd = resolveCommandLine(container.args, values, component.file);
    } catch (e) {
      throw new ConfigError([{ file: component.file, path: `steps.${step}`, message: errorMessage(e) }]);
    }
    const env = Object.fromEntries(
      Object.entries(container.env ?? {}).map(([k, v]) => [k, resolveCommandLine([v], values, component.file)!.join('')]),
    );
    await this.ensureImage(image);
    this.emit({ type: 'step-start', step, image, command: [...(entrypoint ?? []), ...(cmd ?? [])] });
    const lastLines: string[] = [];
    const started = Date.now();
    let exitCode: number;
    try {
      exitCode = await this.deps.engine.runContainer({
        image,
        entrypoint,
        cmd,
        env,
        volumes: pipeline.spec.volume ? { [volume]: pipeline.spec.volume.mountPath } : undefined,
        network: options.network ?? 'host',
        gpus: spec.resources?.gpu,
        labels: { 'io.helmet.pipeline': pipeline.spec.name, 'io.helmet.step': step },
        signal: options.signal,
        onLog: (line, stream) => {
          lastLines.push(line);
          if (lastLines.length > LAST_LINES) lastLines.shift();
          this.emit({ type: 'step-log', step, line, stream });
        },
      });
    } catch (e) {
      if ((e as { code?: string }).code === 'ECONNREFUSED') throw new EngineUnreachableError(`lost the Docker engine: ${errorMessage(e)}`);
      exitCode = -1;
      lastLines.push(errorMessage(e));
    }
    const seconds = (Date.now() - started) / 1000;
    if (options.signal?.aborted) return skipped('interrupted while running');
    if (exitCode !== 0) {
      const message = `step ${step} exited with code ${exitCode}`;
      this.emit({ type: 'step-failed', step, exitCode, message, lastLines });
      return { step, status: 'failed', exitCode, seconds, lastLines, reason: message };
    }
    this.emit({ type: 'step-done', step, seconds });
    return { step, status: 'succeeded', exitCode, seconds };
  }

  /** A reused pushed image may not be in this engine yet: pull it by digest. */
  private async ensureImage(image: string): Promise<void> {
    if (await this.deps.engine.inspectImage(image)) return;
    const ref = parseImageRef(image);
    await this.deps.engine.pullImage(image, engineAuth(ref.registry, await this.deps.credentials.get(ref.registry)));
  }
}

/** Values of a step's inputs: its arguments (parameters or literals), else the component's defaults. */
export function inputValues(component: Component, args: Record<string, unknown>, params: Record<string, string>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const input of component.spec.inputs ?? []) {
    const arg = args[input.name];
    if (arg !== undefined) {
      values[input.name] = typeof arg === 'object' && arg !== null ? params[(arg as { param: string }).param]! : String(arg);
    } else if (input.default !== undefined && input.default !== null) {
      values[input.name] = String(input.default);
    }
  }
  return values;
}
