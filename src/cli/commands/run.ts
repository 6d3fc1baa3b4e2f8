import { BuildRun } from '../../plan/build-run.js';
import { findProjectRoot } from '../../project/project.js';
import { PipelineRun } from '../../runner/pipeline-run.js';
import { UsageError } from '../../errors.js';
import { interruptOnSigint, realServices, type Io } from '../context.js';
import { parseBuildArgs } from '../options.js';
import { eventRenderer } from '../render.js';

export interface RunCommandFlags {
  param?: string[];
  skipStep?: string[];
  keepVolume?: boolean;
  network: string;
  push?: string;
  buildArg?: string[];
  json?: boolean;
  verbose?: boolean;
  cwd: string;
}

/** `helmet-build run`: build (or reuse) the step images, then run the pipeline on the engine. */
export async function runRunCommand(flags: RunCommandFlags, io: Io): Promise<number> {
  const root = findProjectRoot(flags.cwd);
  const params = parseParams(flags.param ?? []);
  const args = parseBuildArgs(flags.buildArg ?? []);
  const onEvent = eventRenderer({ json: flags.json ?? false, verbose: flags.verbose ?? false, ...io });
  const services = realServices();
  const interrupt = interruptOnSigint();
  try {
    const result = await new PipelineRun({
      engine: services.engine,
      credentials: services.credentials,
      build: new BuildRun({ ...services, onEvent }),
      onEvent,
    }).run({
      root,
      params,
      skipSteps: flags.skipStep,
      keepVolume: flags.keepVolume,
      network: flags.network,
      push: flags.push,
      buildArgs: args.global,
      componentBuildArgs: args.perComponent,
      signal: interrupt.signal,
    });
    if (flags.json) io.out.write(`${JSON.stringify({ type: 'result', ok: result.ok, exitCode: result.exitCode, steps: result.steps })}\n`);
    else {
      const line = result.steps.map((s) => `${s.step}: ${s.status}${s.status === 'failed' && s.exitCode !== undefined ? ` (exit ${s.exitCode})` : ''}`).join(', ');
      io.err.write(`${result.ok ? 'run succeeded' : 'run FAILED'}: ${line}\n`);
    }
    return result.exitCode;
  } finally {
    interrupt.dispose();
  }
}

function parseParams(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of values) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param "${raw}" is not NAME=VALUE`, { hint: 'Example: --param epochs=10' });
    out[raw.slice(0, eq)] = raw.slice(eq + 1);
  }
  return out;
}
