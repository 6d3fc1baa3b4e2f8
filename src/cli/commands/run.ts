/** `helmet-build run`: parse flags, build (or reuse) the step images, run the pipeline on the engine. */
import { type RunResult, runPipeline } from '../../flow/run.js';
import { findProjectRoot } from '../../project/project-root.js';
import { type Io, interruptOnSigint, readLogin, realServices } from '../context.js';
import { buildInputsFromFlags, contextTransferFromEnv, parseParams } from '../options.js';
import { progressRenderer } from '../tty-renderer.js';

export interface RunCommandFlags {
  param?: string[];
  skipStep?: string[];
  keepVolume?: boolean;
  network: string;
  parallel?: number;
  /** false with --no-gpu. */
  gpu?: boolean;
  push?: string;
  buildArg?: string[];
  secret?: string[];
  ssh?: string[];
  builder?: 'classic' | 'buildkit';
  buildNetwork?: string;
  json?: boolean;
  verbose?: boolean;
  username?: string;
  passwordStdin?: boolean;
  cwd: string;
}

export async function runRunCommand(flags: RunCommandFlags, io: Io): Promise<number> {
  const root = findProjectRoot(flags.cwd);
  const params = parseParams(flags.param ?? []);
  const inputs = buildInputsFromFlags(flags);
  const login = await readLogin(flags, io);
  const progress = progressRenderer({ json: flags.json ?? false, verbose: flags.verbose ?? false, ...io });
  const onEvent = progress.onEvent;
  const services = realServices(login, root);
  const interrupt = interruptOnSigint();
  let result: RunResult;
  try {
    result = await runPipeline(
      {
        root,
        params,
        skipSteps: flags.skipStep,
        keepVolume: flags.keepVolume,
        network: flags.network,
        parallelSteps: flags.parallel,
        withoutGpus: flags.gpu === false,
        push: flags.push,
        ...inputs,
        builder: flags.builder,
        contextTransfer: contextTransferFromEnv(),
        buildNetwork: flags.buildNetwork,
        signal: interrupt.signal,
      },
      { ...services, onEvent },
    );
  } finally {
    interrupt.dispose();
    progress.close();
  }
  if (flags.json) io.out.write(`${JSON.stringify({ type: 'result', ok: result.ok, exitCode: result.exitCode, steps: result.steps })}\n`);
  else {
    const line = result.steps
      .map((s) => `${s.step}: ${s.status}${s.status === 'failed' && s.exitCode !== undefined ? ` (exit ${s.exitCode})` : ''}`)
      .join(', ');
    io.err.write(`${result.ok ? 'run succeeded' : 'run FAILED'}: ${line}\n`);
  }
  return result.exitCode;
}
