import { resolve } from 'node:path';
import { ExitCode } from '../../errors.js';
import { BuildRun, type BuildRunResult } from '../../plan/build-run.js';
import { findProjectRoot } from '../../project/project.js';
import { gitSourceLabels } from '../../project/git-info.js';
import { interruptOnSigint, realServices, type Io } from '../context.js';
import { parseBuildArgs } from '../options.js';
import { progressRenderer } from '../tty-renderer.js';

export interface BuildCommandFlags {
  push?: string;
  tag?: string[];
  buildArg?: string[];
  concurrency?: number;
  cache: boolean;
  json?: boolean;
  verbose?: boolean;
  out?: string;
  cwd: string;
  /** `emit` / `plan`: build nothing (see BuildOptions.resolveOnly). */
  resolveOnly?: 'resolve' | 'plan';
}

/** `helmet-build all` and `helmet-build build <component>...`: parse, call the core, render. */
export async function runBuildCommand(components: string[], flags: BuildCommandFlags, io: Io): Promise<number> {
  const root = findProjectRoot(flags.cwd);
  const args = parseBuildArgs(flags.buildArg ?? []);
  const progress = progressRenderer({ json: flags.json ?? false, verbose: flags.verbose ?? false, ...io });
  const onEvent = progress.onEvent;
  const interrupt = interruptOnSigint();
  let result: BuildRunResult;
  try {
    result = await new BuildRun({ ...realServices(), onEvent }).run({
      root,
      components,
      push: flags.push,
      tags: flags.tag,
      buildArgs: args.global,
      componentBuildArgs: args.perComponent,
      concurrency: flags.concurrency,
      noCache: !flags.cache,
      outDir: flags.out ? resolve(flags.cwd, flags.out) : undefined,
      sourceLabels: () => gitSourceLabels(root),
      resolveOnly: flags.resolveOnly,
      signal: interrupt.signal,
    });
  } finally {
    interrupt.dispose();
    progress.close();
  }
  if (flags.json) {
    io.out.write(`${JSON.stringify({ type: 'result', ok: result.ok, exitCode: result.exitCode, written: result.written })}\n`);
  } else if (flags.resolveOnly === 'plan') {
    const upToDate = result.results.filter((r) => r.action === 'reused').length;
    const toBuild = result.results.filter((r) => r.action === 'skipped').length;
    io.err.write(`plan: ${upToDate} up to date, ${toBuild} would be built${result.ok ? '' : ', some could not be checked'}\n`);
  } else {
    const count = (a: string) => result.results.filter((r) => r.action === a).length;
    const parts = ['built', 'pushed', 'reused', 'skipped', 'failed'].map((a) => [a, count(a)] as const).filter(([, n]) => n > 0);
    const verdict = result.ok ? 'done' : result.exitCode === ExitCode.interrupted ? 'interrupted' : 'FAILED';
    io.err.write(`${verdict}: ${parts.map(([a, n]) => `${n} ${a}`).join(', ')}\n`);
  }
  return result.exitCode;
}
