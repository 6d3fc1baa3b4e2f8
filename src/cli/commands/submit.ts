/** `helmet-build submit`: parse flags, upload the published pipeline to KFP and start a run (and follow it with --wait). */
import { errorRecord, isHelmetError, UsageError } from '../../errors.js';
import { findProjectRoot } from '../../project/project-root.js';
import { type SubmitResult, submit } from '../../submit/submit.js';
import { type Io, interruptOnSigint } from '../context.js';
import { parseParams } from '../options.js';
import { progressRenderer } from '../tty-renderer.js';

export interface SubmitCommandFlags {
  host?: string;
  experiment?: string;
  runName?: string;
  param?: string[];
  version?: string;
  namespace?: string;
  api?: 'v1' | 'v2';
  wait?: boolean;
  timeout?: number;
  out: string;
  json?: boolean;
  cwd: string;
}

export async function runSubmitCommand(flags: SubmitCommandFlags, io: Io): Promise<number> {
  if (flags.timeout !== undefined && !flags.wait)
    throw new UsageError('--timeout needs --wait', { hint: 'Example: helmet-build submit --wait --timeout 3600' });
  const root = findProjectRoot(flags.cwd);
  const params = parseParams(flags.param ?? []);
  await (await import('./verify.js')).requireVerified(flags, io);
  const progress = progressRenderer({ json: flags.json ?? false, verbose: false, ...io });
  const interrupt = interruptOnSigint();
  let result: SubmitResult;
  try {
    result = await submit(
      {
        root,
        outDir: flags.out,
        host: flags.host,
        experiment: flags.experiment,
        runName: flags.runName,
        params,
        version: flags.version,
        namespace: flags.namespace,
        api: flags.api,
        wait: flags.wait,
        timeoutSeconds: flags.timeout,
        signal: interrupt.signal,
      },
      { onEvent: progress.onEvent },
    );
  } catch (e) {
    progress.close();
    if (flags.json && isHelmetError(e)) io.out.write(`${JSON.stringify({ type: 'result', ok: false, exitCode: e.exitCode, error: errorRecord(e) })}\n`);
    throw e;
  } finally {
    interrupt.dispose();
  }
  progress.close();
  if (flags.json) io.out.write(`${JSON.stringify({ type: 'result', ...result })}\n`);
  else if (flags.wait) {
    const ended = ['SUCCEEDED', 'FAILED', 'CANCELED', 'SKIPPED'].includes(result.state);
    io.err.write(`run ${result.state}${ended ? '' : ' (it goes on; no longer waited for)'}: ${result.url}\n`);
  }
  return result.exitCode;
}
