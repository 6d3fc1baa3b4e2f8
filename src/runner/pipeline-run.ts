/**
 * Run pipeline.yaml on the local Docker engine: a named volume stands in for the PVC, each step is
 * a container from its built image, and steps are jobs on the same job graph as builds — a step
 * starts once the steps it runs after succeeded, independent steps run at once (bounded), and a
 * failed step skips its dependants.
 */
import { randomBytes } from 'node:crypto';
import type { EngineClient } from '../engine/engine-client.js';
import { ConfigError, EngineUnreachableError, ExitCode, errorMessage, InterruptedError, StepFailedError, UsageError, worstExitCode } from '../errors.js';
import type { EventListener } from '../events.js';
import { ignoreEvents } from '../events.js';
import { DagExecutor, type Job, type JobContext } from '../execute/dag.js';
import type { BuildOptions, BuildRunResult } from '../flow/build.js';
import { withDependants } from '../graph/graph.js';
import { loadProject } from '../project/load-project.js';
import type { Pipeline, PipelineStep, TypedValue } from '../project/model.js';
import { typedValue } from '../project/model.js';
import { resolveCommandItems, usesExecutorInput } from '../project/placeholders.js';
import { type CredentialSource, engineAuth } from '../registry/credentials.js';
import { parseImageRef } from '../registry/image-ref.js';
import { RUN_FILES_MOUNT, RunFiles } from './run-files.js';

const LAST_LINES = 20;

export interface RunOptions extends Pick<BuildOptions, 'push' | 'buildArgs' | 'componentBuildArgs' | 'concurrency' | 'builder' | 'buildNetwork'> {
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
  credentials: CredentialSource;
  /** Builds (or reuses) the images the steps run. */
  build: (options: BuildOptions) => Promise<BuildRunResult>;
  onEvent?: EventListener;
}

export class PipelineRun {
  private readonly emit: EventListener;

  constructor(private readonly deps: RunDeps) {
    this.emit = deps.onEvent ?? ignoreEvents;
  }

  async run(options: RunOptions): Promise<RunResult> {
    const project = loadProject(options.root);
    const pipeline = project.pipeline;
    if (!pipeline) throw new UsageError(`no pipeline.yaml in ${project.root}`, { hint: 'Declare the steps in pipeline.yaml at the project root.' });
    const params = resolveParameters(pipeline, options.params ?? {});
    const skip = skippedSteps(pipeline, options.skipSteps ?? []);
    const toRun = pipeline.steps.filter((s) => !skip.has(s.name));
    this.checkExecutorInput(toRun);
    await this.deps.engine.ping();
    await this.checkGpus(toRun);

    const built = await this.deps.build({
      root: project.root,
      components: [...new Set(toRun.map((s) => s.component.name))],
      push: options.push,
      buildArgs: options.buildArgs,
      componentBuildArgs: options.componentBuildArgs,
      concurrency: options.concurrency,
      builder: options.builder,
      buildNetwork: options.buildNetwork,
      signal: options.signal,
      writeOutputs: false,
    });
    if (!built.ok) {
      return {
        ok: false,
        exitCode: built.exitCode,
        steps: built.results.filter((r) => r.error).map((r) => ({ step: r.component, status: 'failed' as const, reason: `image: ${r.error!.message}` })),
      };
    }
    const images = new Map(built.results.filter((r) => r.image).map((r) => [r.component, r.image!]));

    const volume = pipeline.volume ? `${pipeline.name}-run-${randomBytes(3).toString('hex')}` : undefined;
    if (volume) await this.deps.engine.createVolume(volume, { 'io.helmet.pipeline': pipeline.name });
    this.emit({ type: 'run-start', pipeline: pipeline.name, volume, steps: pipeline.steps.map((s) => s.name), parameters: params });
    const results = new Map<string, StepResult>();
    const files = RunFiles.forPipeline(pipeline);
    try {
      for (const s of pipeline.steps.filter((x) => skip.has(x.name))) {
        const reason = options.skipSteps?.includes(s.name)
          ? 'skipped with --skip-step'
          : `runs after a skipped step (${s.after.filter((d) => skip.has(d)).join(', ')})`;
        this.emit({ type: 'job-finished', job: `step:${s.name}`, kind: 'step', subject: s.name, outcome: 'skipped', seconds: 0, summary: reason });
        results.set(s.name, { step: s.name, status: 'skipped', reason });
      }
      const jobs = toRun.map(
        (step): Job<number> => ({
          id: `step:${step.name}`,
          kind: 'step',
          subject: step.name,
          title: `running ${images.get(step.component.name)}`,
          needs: step.after.map((d) => `step:${d}`),
          run: async (ctx) => {
            const exitCode = await this.runStep(pipeline, step, params, images.get(step.component.name)!, volume, files, options, ctx);
            return { result: exitCode, summary: 'succeeded' };
          },
        }),
      );
      const reports = await new DagExecutor({ step: options.parallelSteps ?? 2 }, this.emit, options.signal).run(jobs);
      for (const step of toRun) {
        const r = reports.get(`step:${step.name}`)!;
        if (r.outcome === 'succeeded') results.set(step.name, { step: step.name, status: 'succeeded', exitCode: 0, seconds: r.seconds });
        else if (r.outcome === 'failed') {
          const exitCode = r.error instanceof StepFailedError ? r.error.stepExitCode : undefined;
          if (r.error instanceof EngineUnreachableError) throw r.error;
          results.set(step.name, {
            step: step.name,
            status: r.error instanceof InterruptedError ? 'skipped' : 'failed',
            exitCode,
            seconds: r.seconds,
            reason: r.error.message,
          });
        } else results.set(step.name, { step: step.name, status: 'skipped', reason: r.reason });
      }
    } finally {
      if (files) {
        this.emit({ type: 'run-outputs', folder: files.folder, kept: options.keepVolume === true, files: files.list(pipeline) });
        if (!options.keepVolume) files.remove();
      }
      if (volume) {
        if (options.keepVolume) this.emit({ type: 'volume-kept', volume });
        else {
          await this.deps.engine.removeVolume(volume).catch(() => undefined);
          this.emit({ type: 'volume-removed', volume });
        }
      }
    }
    const steps = pipeline.steps.map((s) => results.get(s.name)!);
    const interrupted = options.signal?.aborted ?? false;
    const failed = steps.some((s) => s.status === 'failed');
    return {
      ok: !failed && !interrupted,
      exitCode: interrupted ? ExitCode.interrupted : worstExitCode(failed ? [ExitCode.failed] : []),
      volume: options.keepVolume ? volume : undefined,
      steps,
    };
  }

  /** KFP's launcher writes the executor input of a step; a local run has none to give. */
  private checkExecutorInput(toRun: PipelineStep[]): void {
    const wanting = toRun.filter((s) => usesExecutorInput([...(s.command ?? []), ...(s.commandArgs ?? []), ...s.env.map((e) => e.value)])).map((s) => s.name);
    if (wanting.length === 0) return;
    throw new UsageError(`step(s) ${wanting.join(', ')} take {executorInput}, which only KFP's launcher provides`, {
      hint: `Run the pipeline spec on KFP, or skip them here with ${wanting.map((s) => `--skip-step ${s}`).join(' ')}.`,
    });
  }

  private async checkGpus(toRun: PipelineStep[]): Promise<void> {
    const wanting = toRun.filter((s) => s.resources?.gpu).map((s) => s.name);
    if (wanting.length === 0 || (await this.deps.engine.hasGpuSupport())) return;
    throw new UsageError(`step(s) ${wanting.join(', ')} request a GPU, but this Docker engine offers none (no NVIDIA runtime)`, {
      hint: `Skip them with ${wanting.map((s) => `--skip-step ${s}`).join(' ')} (steps after them are skipped too), or run on an engine with GPUs.`,
    });
  }

  private async runStep(
    pipeline: Pipeline,
    step: PipelineStep,
    params: Record<string, string>,
    image: string,
    volume: string | undefined,
    files: RunFiles | undefined,
    options: RunOptions,
    ctx: JobContext,
  ): Promise<number> {
    const values = inputValues(step, params, (producer, output) => files!.readValue(pipeline.steps.find((s) => s.name === producer)!, output));
    const paths = files?.pathsFor(step);
    files?.prepare(step);
    const resolve = (items: PipelineStep['command']) => {
      if (!items) return undefined;
      const r = resolveCommandItems(items, values, paths);
      if ('missing' in r) {
        throw new ConfigError([
          { file: step.component.file, path: `steps.${step.name}`, message: `input "${r.missing}" has no value; give it in pipeline.yaml` },
        ]);
      }
      return r.args;
    };
    const entrypoint = resolve(step.command);
    const cmd = resolve(step.commandArgs);
    const env = Object.fromEntries(step.env.map((e) => [e.name, resolve([e.value])!.join('')]));
    await this.ensureImage(image);
    ctx.progress(`${[...(entrypoint ?? []), ...(cmd ?? [])].join(' ')}`);
    const lastLines: string[] = [];
    let exitCode: number;
    try {
      exitCode = await this.deps.engine.runContainer({
        image,
        entrypoint,
        cmd,
        env,
        volumes: volume && pipeline.volume ? { [volume]: pipeline.volume.mountPath } : undefined,
        binds: files ? { [files.folder]: RUN_FILES_MOUNT } : undefined,
        network: options.network ?? 'host',
        gpus: step.resources?.gpu,
        labels: { 'io.helmet.pipeline': pipeline.name, 'io.helmet.step': step.name },
        signal: options.signal,
        onLog: (line, stream) => {
          lastLines.push(line);
          if (lastLines.length > LAST_LINES) lastLines.shift();
          ctx.log(line, stream);
        },
      });
    } catch (e) {
      if (e instanceof EngineUnreachableError) throw e;
      exitCode = -1;
      lastLines.push(errorMessage(e));
    }
    if (options.signal?.aborted) throw new InterruptedError('interrupted while running');
    if (exitCode !== 0) throw new StepFailedError(step.name, exitCode, lastLines);
    files?.checkOutputs(step);
    return exitCode;
  }

  /** A reused pushed image may not be in this engine yet: pull it by digest. */
  private async ensureImage(image: string): Promise<void> {
    if (await this.deps.engine.inspectImage(image)) return;
    const ref = parseImageRef(image);
    await this.deps.engine.pullImage(image, engineAuth(ref.registry, await this.deps.credentials.get(ref.registry)));
  }
}

/** Explicitly skipped steps and, transitively, every step that runs after one. */
export function skippedSteps(pipeline: Pipeline, names: string[]): Set<string> {
  const all = pipeline.steps.map((s) => s.name);
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length) throw new UsageError(`--skip-step names unknown step(s): ${unknown.join(', ')}`, { hint: `Steps: ${all.join(', ')}` });
  const after = new Map(pipeline.steps.map((s) => [s.name, s.after]));
  return withDependants(names, all, (n) => after.get(n) ?? []);
}

/** Parameter values for a run: declared defaults overridden by `--param k=v`, each checked against its type. */
export function resolveParameters(pipeline: Pipeline, overrides: Record<string, string>): Record<string, string> {
  const declared = new Map(pipeline.parameters.map((p) => [p.name, p]));
  const problems = Object.entries(overrides).flatMap(([k, v]) => {
    const p = declared.get(k);
    if (!p)
      return [{ file: '--param', path: k, message: `unknown pipeline parameter (declared in ${pipeline.file}: ${[...declared.keys()].join(', ') || 'none'})` }];
    const typed = typedValue(v, p.type);
    return 'error' in typed ? [{ file: '--param', path: k, message: `${typed.error} (the parameter is ${p.type})` }] : [];
  });
  const values: Record<string, string> = {};
  for (const p of pipeline.parameters) {
    const v = overrides[p.name] ?? (p.default === undefined ? undefined : stringValue(p.default));
    if (v === undefined) problems.push({ file: '--param', path: p.name, message: `has no default in ${pipeline.file}; pass --param ${p.name}=VALUE` });
    else values[p.name] = v;
  }
  if (problems.length) throw new ConfigError(problems);
  return values;
}

/**
 * Values of a step's value inputs: its arguments (pipeline parameters, constants, or small values
 * other steps wrote), else the component's defaults. File inputs are paths, not values.
 */
export function inputValues(step: PipelineStep, params: Record<string, string>, readOutput: (step: string, output: string) => string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const input of step.inputs) {
    if (input.kind === 'artifact') continue;
    const arg = step.args[input.name];
    if (arg?.kind === 'parameter') values[input.name] = params[arg.parameter]!;
    else if (arg?.kind === 'constant') values[input.name] = stringValue(arg.value);
    else if (arg?.kind === 'task-output') values[input.name] = readOutput(arg.step, arg.output);
    else if (input.default !== undefined) values[input.name] = stringValue(input.default);
  }
  return values;
}

function stringValue(v: TypedValue): string {
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
