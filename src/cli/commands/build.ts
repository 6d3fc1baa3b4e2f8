/** `all`, `build`, `plan` and `emit`: parse flags, call the core flow, render its events and result. */
import { resolve } from 'node:path';
import { ExitCode } from '../../errors.js';
import { type BuildOptions, type BuildRunResult, emitSpecs, planBuild, runBuild } from '../../flow/build.js';
import { type Plan, planJson } from '../../plan/plan.js';
import { gitSourceLabels } from '../../project/git-info.js';
import { findProjectRoot } from '../../project/project-root.js';
import { type Io, interruptOnSigint, readLogin, realServices, signingPassword } from '../context.js';
import { buildInputsFromFlags, checkTags, contextTransferFromEnv } from '../options.js';
import { progressRenderer } from '../tty-renderer.js';

export interface BuildCommandFlags {
  push?: string;
  tag?: string[];
  buildArg?: string[];
  secret?: string[];
  ssh?: string[];
  concurrency?: number;
  cache?: boolean;
  builder?: 'classic' | 'buildkit';
  platform?: string[];
  signKey?: string;
  buildNetwork?: string;
  json?: boolean;
  verbose?: boolean;
  out?: string;
  username?: string;
  passwordStdin?: boolean;
  cwd: string;
}

function buildOptions(components: string[], flags: BuildCommandFlags, io: Io): BuildOptions {
  checkTags(flags.tag ?? []);
  const root = findProjectRoot(flags.cwd);
  return {
    root,
    components,
    push: flags.push,
    tags: flags.tag,
    ...buildInputsFromFlags(flags),
    concurrency: flags.concurrency,
    noCache: flags.cache === false,
    builder: flags.builder,
    buildNetwork: flags.buildNetwork,
    ...(flags.signKey ? { signKey: resolve(flags.cwd, flags.signKey) } : {}),
    // Asked for by the core only when the key is encrypted; read here, as cosign reads it.
    signPassword: () => signingPassword(flags, io),
    contextTransfer: contextTransferFromEnv(),
    outDir: flags.out ? resolve(flags.cwd, flags.out) : undefined,
    sourceLabels: () => gitSourceLabels(root),
  };
}

/** `helmet-build all` and `helmet-build build <component>...`. */
export async function runBuildCommand(components: string[], flags: BuildCommandFlags, io: Io): Promise<number> {
  const options = buildOptions(components, flags, io);
  const services = realServices(await readLogin(flags, io), options.root);
  return runWithProgress(flags, io, (withSignal, onEvent) => runBuild(withSignal, { ...services, onEvent }), options);
}

/** `helmet-build emit`. */
export async function runEmitCommand(flags: BuildCommandFlags, io: Io): Promise<number> {
  const options = buildOptions([], flags, io);
  const services = realServices(await readLogin(flags, io), options.root);
  return runWithProgress(flags, io, (withSignal, onEvent) => emitSpecs(withSignal, { ...services, onEvent }), options);
}

/** `helmet-build plan`: with --json one JSON document; otherwise each lookup's verdict and a summary. */
export async function runPlanCommand(components: string[], flags: BuildCommandFlags, io: Io): Promise<number> {
  const options = buildOptions(components, flags, io);
  const services = realServices(await readLogin(flags, io), options.root);
  if (flags.json) {
    const { plan } = await planBuild(options, services);
    io.out.write(`${JSON.stringify(planJson(plan, options.root), null, 2)}\n`);
    return plan.entries.some((e) => e.state === 'unknown') ? worstLookupCode(plan.entries) : ExitCode.ok;
  }
  const progress = progressRenderer({ json: false, verbose: flags.verbose ?? false, ...io });
  let plan: Plan;
  try {
    ({ plan } = await planBuild(options, { ...services, onEvent: progress.onEvent }));
  } finally {
    progress.close();
  }
  return plan.entries.some((e) => e.state === 'unknown') ? worstLookupCode(plan.entries) : ExitCode.ok;
}

function worstLookupCode(entries: { state: string; error?: { exitCode: number } }[]): number {
  const codes = entries.flatMap((e) => (e.error ? [e.error.exitCode] : []));
  return codes.includes(ExitCode.unreachable) ? ExitCode.unreachable : ExitCode.failed;
}

async function runWithProgress(
  flags: BuildCommandFlags,
  io: Io,
  run: (options: BuildOptions, onEvent: ReturnType<typeof progressRenderer>['onEvent']) => Promise<BuildRunResult>,
  options: BuildOptions,
): Promise<number> {
  const progress = progressRenderer({ json: flags.json ?? false, verbose: flags.verbose ?? false, ...io });
  const interrupt = interruptOnSigint();
  let result: BuildRunResult;
  try {
    result = await run({ ...options, signal: interrupt.signal }, progress.onEvent);
  } finally {
    interrupt.dispose();
    progress.close();
  }
  if (flags.json) {
    io.out.write(`${JSON.stringify({ type: 'result', ok: result.ok, exitCode: result.exitCode, written: result.written })}\n`);
  } else {
    const count = (a: string) => result.results.filter((r) => r.action === a).length;
    const parts = ['built', 'pushed', 'reused', 'blocked', 'failed'].map((a) => [a, count(a)] as const).filter(([, n]) => n > 0);
    const verdict = result.ok ? 'done' : result.exitCode === ExitCode.interrupted ? 'interrupted' : 'FAILED';
    io.err.write(`${verdict}: ${parts.map(([a, n]) => `${n} ${a}`).join(', ') || 'nothing to do'}\n`);
  }
  return result.exitCode;
}
