/**
 * `all`, `build`, `plan` and `emit` as one flow in four phases:
 *   load    — every file read and checked (exit 2 before the engine or registry is touched);
 *   plan    — input digests and lookups: per component, what exists and what must be done;
 *   execute — builds and pushes on the job graph, each success recorded as it happens;
 *   publish — user tags moved and the pipeline spec written, only when everything succeeded.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { EngineClient } from '../engine/engine-client.js';
import { ExitCode, errorRecord, NotBuiltError, UsageError, worstExitCode } from '../errors.js';
import { type EventListener, ignoreEvents } from '../events.js';
import { type BuilderChoice, executePlan } from '../execute/build-jobs.js';
import type { ComponentResult } from '../execute/component-result.js';
import { acquireOutputLock, type OutputLock } from '../output/output-lock.js';
import { RunRecords } from '../output/records.js';
import { type Plan, resolvePlan } from '../plan/plan.js';
import { loadProject, selectComponents } from '../project/load-project.js';
import type { Project } from '../project/model.js';
import { publish } from '../publish/publish.js';
import type { CredentialSource } from '../registry/credentials.js';
import { parsePushTarget } from '../registry/image-ref.js';
import type { RegistryClient } from '../registry/registry-client.js';

export interface BuildOptions {
  /** Project root (folder with components/). */
  root: string;
  /** Component names; empty = all. */
  components?: string[];
  /** `<registry>[/<prefix>]` to push to; without it images stay local. */
  push?: string;
  /** User tags, moved to the images once every selected component succeeded. */
  tags?: string[];
  /** Build args for every component, overriding component.yaml. */
  buildArgs?: Record<string, string>;
  /** Build args per component name, overriding the global ones. */
  componentBuildArgs?: Record<string, Record<string, string>>;
  /** Builds at once, and pushes at once (separately). @default number of CPUs */
  concurrency?: number;
  noCache?: boolean;
  /** @default auto: BuildKit where the engine has it, else the classic builder */
  builder?: BuilderChoice;
  /** Network of RUN steps for components without `build.network`. @default host on an engine without a bridge network */
  buildNetwork?: string;
  /** Output folder. @default `<root>/dist` */
  outDir?: string;
  /** Image labels describing the source (git remote, revision); asked for only when something is built. */
  sourceLabels?: () => Promise<Record<string, string>>;
  /** Write specs, build.json and the pipeline spec. @default true */
  writeOutputs?: boolean;
  signal?: AbortSignal;
}

export interface BuildDeps {
  engine: EngineClient;
  registry: RegistryClient;
  credentials: CredentialSource;
  onEvent?: EventListener;
}

export interface BuildRunResult {
  ok: boolean;
  /** 0 when every component succeeded; otherwise the documented exit code of the worst failure. */
  exitCode: number;
  push?: string;
  project: Project;
  plan: Plan;
  results: ComponentResult[];
  /** Files written, relative to the project root. */
  written: string[];
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** load → plan: what a build would do. Builds and writes nothing. */
export async function planBuild(options: BuildOptions, deps: BuildDeps): Promise<{ project: Project; plan: Plan }> {
  // Records are only read here: they say what changed since the last build.
  const { project, plan } = await loadAndPlan(options, deps, recordsFor(options, deps), false);
  return { project, plan };
}

/** load → plan → execute → publish. */
export async function runBuild(options: BuildOptions, deps: BuildDeps): Promise<BuildRunResult> {
  if (options.writeOutputs === false) return buildLocked(options, deps, undefined);
  return withOutputLock(options, (lock) => buildLocked(options, deps, lock));
}

async function buildLocked(options: BuildOptions, deps: BuildDeps, lock: LazyLock | undefined): Promise<BuildRunResult> {
  const onEvent = deps.onEvent ?? ignoreEvents;
  const records = options.writeOutputs === false ? undefined : recordsFor(options, deps);
  const { project, plan } = await loadAndPlan(options, deps, records, records !== undefined, lock);
  const byName = new Map(project.components.map((c) => [c.name, c]));
  const results = await executePlan(
    plan,
    {
      limits: { build: concurrency(options), push: concurrency(options) },
      noCache: options.noCache,
      builder: options.builder,
      buildNetwork: options.buildNetwork,
      sourceLabels: options.sourceLabels,
      signal: options.signal,
      onComponentDone: (r) => {
        if (options.signal?.aborted) return;
        records?.componentSucceeded(byName.get(r.component)!, r, plan.builds.get(r.component)?.inputs);
      },
    },
    { ...deps, onEvent },
  );
  return finish(project, plan, results, options, { ...deps, onEvent }, records);
}

/** load → plan → publish, requiring every component to be up to date: specs from images already pushed. */
export async function emitSpecs(options: BuildOptions, deps: BuildDeps): Promise<BuildRunResult> {
  return withOutputLock(options, (lock) => emitLocked(options, deps, lock));
}

async function emitLocked(options: BuildOptions, deps: BuildDeps, lock: LazyLock): Promise<BuildRunResult> {
  const onEvent = deps.onEvent ?? ignoreEvents;
  const records = recordsFor(options, deps);
  const { project, plan } = await loadAndPlan(options, deps, records, true, lock);
  const stale = plan.entries.filter((e) => e.selected && e.state !== 'up-to-date');
  if (stale.length) {
    const results = stale.map((e): ComponentResult => {
      const error =
        e.state === 'unknown'
          ? e.error
          : errorRecord(
              new NotBuiltError(`no image for the current inputs of ${e.component} (${e.repository}:${e.contentTag})`, {
                hint: `Build it first: helmet-build build ${e.component} --push ${options.push}`,
              }),
            );
      onEvent({
        type: 'job-finished',
        job: `emit:${e.component}`,
        kind: 'publish',
        subject: e.component,
        outcome: 'failed',
        seconds: 0,
        summary: error.message,
        error,
      });
      return { component: e.component, action: 'failed', tags: [], durations: {}, error };
    });
    return { ok: false, exitCode: worstExitCode(results.map((r) => r.error!.exitCode)), push: options.push, project, plan, results, written: [] };
  }
  const byName = new Map(project.components.map((c) => [c.name, c]));
  const results = await executePlan(
    plan,
    { limits: {}, onComponentDone: (r) => records.componentSucceeded(byName.get(r.component)!, r, plan.builds.get(r.component)?.inputs) },
    { ...deps, onEvent },
  );
  return finish(project, plan, results, options, { ...deps, onEvent }, records);
}

/** The output lock, taken once the input is known to be good: a refused input leaves no trace in dist/. */
interface LazyLock {
  take(): void;
}

/** Runs `work` as the only writer of the output folder (a second run is refused, exit 2). */
async function withOutputLock<T>(options: BuildOptions, work: (lock: LazyLock) => Promise<T>): Promise<T> {
  let held: OutputLock | undefined;
  try {
    return await work({
      take: () => {
        held ??= acquireOutputLock(outDirOf(options), options.root);
      },
    });
  } finally {
    held?.release();
  }
}

function outDirOf(options: BuildOptions): string {
  return options.outDir ?? join(options.root, 'dist');
}

function recordsFor(options: BuildOptions, deps: BuildDeps): RunRecords {
  return new RunRecords(options.root, outDirOf(options), options.push, deps.onEvent ?? ignoreEvents);
}

/** `withPipeline`: also look up the pipeline's other components, so that its spec can be written. */
async function loadAndPlan(
  options: BuildOptions,
  deps: BuildDeps,
  records: RunRecords | undefined,
  withPipeline: boolean,
  lock?: LazyLock,
): Promise<{ project: Project; plan: Plan }> {
  const project = loadProject(options.root);
  const selection = selectComponents(project, options.components ?? []);
  const target = options.push ? parsePushTarget(options.push) : undefined;
  const unknownArgTargets = Object.keys(options.componentBuildArgs ?? {}).filter((n) => !project.components.some((c) => c.name === n));
  if (unknownArgTargets.length) {
    throw new UsageError(`--build-arg names unknown component(s): ${unknownArgTargets.join(', ')}`, {
      hint: `Known components: ${project.components.map((c) => c.name).join(', ')}`,
    });
  }
  const badTags = (options.tags ?? []).filter((t) => !TAG.test(t));
  if (badTags.length) {
    throw new UsageError(`--tag ${badTags.map((t) => JSON.stringify(t)).join(', ')}: a tag is 1-128 letters, digits, _, . and -, not starting with . or -`);
  }
  concurrency(options);
  lock?.take();
  const plan = await resolvePlan(
    project,
    {
      push: options.push,
      target,
      selection,
      includePipeline: target !== undefined && withPipeline,
      tags: options.tags,
      buildArgs: options.buildArgs,
      componentBuildArgs: options.componentBuildArgs,
      noCache: options.noCache,
      previousInputs: records ? (c) => records.previousInputs(c) : undefined,
      signal: options.signal,
    },
    { engine: deps.engine, registry: deps.registry, onEvent: deps.onEvent ?? ignoreEvents },
  );
  return { project, plan };
}

async function finish(
  project: Project,
  plan: Plan,
  results: ComponentResult[],
  options: BuildOptions,
  deps: BuildDeps & { onEvent: EventListener },
  records: RunRecords | undefined,
): Promise<BuildRunResult> {
  const interrupted = () => options.signal?.aborted === true;
  const published = interrupted() ? results : await publish(project, plan, results, { records, signal: options.signal }, deps);
  // An interrupted run writes nothing more: earlier records stay as they were.
  if (!interrupted()) records?.runFinished(published);
  const codes = published.flatMap((r) => (r.error ? [r.error.exitCode] : []));
  const exitCode = interrupted() ? ExitCode.interrupted : worstExitCode(codes);
  return { ok: exitCode === ExitCode.ok, exitCode, push: options.push, project, plan, results: published, written: records?.written ?? [] };
}

function concurrency(options: BuildOptions): number {
  const n = options.concurrency ?? Math.max(1, availableParallelism());
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--concurrency takes a positive whole number, got ${n}`);
  return n;
}
