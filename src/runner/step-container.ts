/**
 * One pipeline step run as a container on the local engine: its command resolved from the step's
 * inputs (values, and file paths in the run folder), its image pulled by digest when the engine
 * lacks it, the shared volume and the run folder mounted, its output streamed, its exit checked.
 */
import type { EngineClient } from '../engine/engine-client.js';
import { ConfigError, EngineUnreachableError, errorMessage, InterruptedError, StepFailedError } from '../errors.js';
import type { JobContext } from '../jobs/dag.js';
import type { Pipeline, PipelineStep } from '../project/model.js';
import { resolveCommandItems } from '../project/placeholders.js';
import { type CredentialSource, engineAuth } from '../registry/credentials.js';
import { parseImageRef } from '../registry/image-ref.js';
import { LastLines } from '../text/last-lines.js';
import { inputValues } from './parameters.js';
import { RUN_FILES_MOUNT, type RunFiles } from './run-files.js';

export interface StepRun {
  pipeline: Pipeline;
  step: PipelineStep;
  /** Parameter values of the run. */
  params: Record<string, string>;
  image: string;
  /** The named volume standing in for the PVC. */
  volume?: string;
  files?: RunFiles;
  /** Network mode of the step containers. */
  network: string;
  /** Whether the container gets the GPUs its step requests. */
  gpus: boolean;
  signal?: AbortSignal;
}

export interface StepDeps {
  engine: EngineClient;
  credentials: CredentialSource;
}

/** Runs the step's container to its end; throws StepFailedError on a non-zero exit. */
export async function runStepContainer(run: StepRun, deps: StepDeps, ctx: JobContext): Promise<number> {
  const { pipeline, step, files } = run;
  const values = inputValues(step, run.params, (producer, output) => {
    const from = pipeline.steps.find((s) => s.name === producer);
    // The load phase checked the wiring: a task output always has a producer and a run folder.
    if (!files || !from) throw new Error(`no run folder holds the output ${producer}.${output}`);
    return files.readValue(from, output);
  });
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
  const env = Object.fromEntries(step.env.map((e) => [e.name, (resolve([e.value]) ?? []).join('')]));
  await ensureImage(run.image, deps);
  ctx.progress(`${[...(entrypoint ?? []), ...(cmd ?? [])].join(' ')}`);
  const lastLines = new LastLines();
  let exitCode: number;
  try {
    exitCode = await deps.engine.runContainer({
      image: run.image,
      entrypoint,
      cmd,
      env,
      volumes: run.volume && pipeline.volume ? { [run.volume]: pipeline.volume.mountPath } : undefined,
      binds: files ? { [files.folder]: RUN_FILES_MOUNT } : undefined,
      network: run.network,
      gpus: run.gpus ? step.resources?.gpu : undefined,
      labels: { 'io.helmet.pipeline': pipeline.name, 'io.helmet.step': step.name },
      signal: run.signal,
      onLog: (line, stream) => {
        lastLines.push(line);
        ctx.log(line, stream);
      },
    });
  } catch (e) {
    if (e instanceof EngineUnreachableError) throw e;
    exitCode = -1;
    lastLines.push(errorMessage(e));
  }
  if (run.signal?.aborted) throw new InterruptedError('interrupted while running');
  if (exitCode !== 0) throw new StepFailedError(step.name, exitCode, lastLines.lines());
  files?.checkOutputs(step);
  return exitCode;
}

/** A reused pushed image may not be in this engine yet: pull it by digest. */
async function ensureImage(image: string, deps: StepDeps): Promise<void> {
  if (await deps.engine.inspectImage(image)) return;
  const ref = parseImageRef(image);
  await deps.engine.pullImage(image, engineAuth(ref.registry, await deps.credentials.get(ref.registry)));
}
