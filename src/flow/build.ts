/**
 * `all`, `build`, `plan` and `emit` as one flow in four phases:
 *   load    — every file read and checked (exit 2 before the engine or registry is touched);
 *   plan    — input digests and lookups: per component, what exists and what must be done;
 *   execute — builds and pushes on the job graph, each success recorded as it happens;
 *   publish — user tags moved and the pipeline spec written, only when everything succeeded.
 */

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { BuildSecret, EngineClient, SshAgent } from '../engine/engine-client.js';
import type { BuilderChoice, ContextTransfer } from '../engine/engine-setup.js';
import {
  ExitCode,
  errorRecord,
  type HelmetError,
  InterruptedError,
  isHelmetError,
  messageWithHint,
  NotBuiltError,
  UsageError,
  worstExitCode,
} from '../errors.js';
import { type EventListener, ignoreEvents } from '../events.js';
import type { Built } from '../execute/build-job.js';
import { executePlan } from '../execute/execute-plan.js';
import { failedResult } from '../execute/results.js';
import { engineImageStore } from '../images/engine-store.js';
import type { ImageStore } from '../images/image-store.js';
import { registryImageStore } from '../images/registry-store.js';
import { DagExecutor, type Job } from '../jobs/dag.js';
import type { ComponentResult } from '../model/component-result.js';
import { acquireOutputLock, type OutputLock } from '../output/output-lock.js';
import { RunRecords } from '../output/records.js';
import { type Plan, resolvePlan } from '../plan/plan.js';
import type { RunSettings } from '../plan/run-settings.js';
import { checkBuildNeeds } from '../project/build-needs.js';
import type { Project } from '../project/model.js';
import { checkPlatforms } from '../project/platform-needs.js';
import { openProject } from '../project/project-cache.js';
import { selectComponents, withBases } from '../project/project-root.js';
import { publish } from '../publish/publish.js';
import type { CredentialSource } from '../registry/credentials.js';
import { parsePushTarget } from '../registry/image-ref.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { checkEngines, engineOwnPlatform, runEngines, soleEngine } from './run-engines.js';
import { SuccessRecorder } from './success-recorder.js';

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
  /** Platforms of every component built, overriding their own (`build.platforms`, the project's `platforms:`). */
  platforms?: string[];
  /** Build secrets (--secret) BuildKit builds may mount; every component's `build.secrets` must be among them. */
  secrets?: BuildSecret[];
  /** SSH agents (--ssh) BuildKit builds may use; every component's `build.ssh` must be among them. */
  ssh?: SshAgent[];
  /** Network of RUN steps for components without `build.network`. @default host on an engine without a bridge network */
  buildNetwork?: string;
  /** How BuildKit builds get their context. @default filesync */
  contextTransfer?: ContextTransfer;
  /** The key to sign every built image the run pins with (overrides helmet-build.yaml's `sign: {key}`). */
  signKey?: string;
  /** The password of an encrypted signing key, asked for only when the key is encrypted (COSIGN_PASSWORD, or standard input). */
  signPassword?: () => Promise<string | undefined>;
  /** Output folder. @default `<root>/dist` */
  outDir?: string;
  /** Image labels describing the source (git remote, revision); asked for only when something is built. */
  sourceLabels?: () => Promise<Record<string, string>>;
  /** Write specs, build.json and the pipeline spec. @default true */
  writeOutputs?: boolean;
  /** The project, when the caller has loaded it already (a run reads its files once). @default loaded from `root` */
  project?: Project;
  signal?: AbortSignal;
}

export interface BuildDeps {
  /** DOCKER_HOST's engine. */
  engine: EngineClient;
  /** The engine at an address of `engines:` in helmet-build.yaml. */
  engineAt?: (host: string) => EngineClient;
  registry: RegistryApi;
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
  const { project, plan } = await loadAndPlan(options, deps, records, records !== undefined, lock, true, true);
  return executeAndFinish(project, plan, options, deps, onEvent, records);
}

/** load → plan → publish, requiring every component to be up to date: specs from images already pushed. */
export async function emitSpecs(options: BuildOptions, deps: BuildDeps): Promise<BuildRunResult> {
  return withOutputLock(options, (lock) => emitLocked(options, deps, lock));
}

async function emitLocked(options: BuildOptions, deps: BuildDeps, lock: LazyLock): Promise<BuildRunResult> {
  const onEvent = deps.onEvent ?? ignoreEvents;
  const records = recordsFor(options, deps);
  const { project, plan } = await loadAndPlan(options, deps, records, true, lock, false, true);
  const stale = plan.entries.filter((e) => e.selected && e.state !== 'up-to-date');
  if (stale.length) {
    // Each stale component is a failed job of its own, reported like every other job.
    const jobs = stale.map(
      (e): Job<never> => ({
        id: `emit:${e.component}`,
        kind: 'publish',
        subject: e.component,
        title: `writing the spec of ${e.component}`,
        needs: [],
        run: async () => {
          if (e.state === 'unknown') throw e.error;
          throw new NotBuiltError(`no image for the current inputs of ${e.component} (${e.repository}${e.kind === 'built' ? `:${e.contentTag}` : ''})`, {
            remedy: { kind: 'build-first', components: [e.component], push: options.push },
          });
        },
      }),
    );
    const reports = await new DagExecutor({}, onEvent, options.signal).run(jobs);
    const results = stale.map((e, i) => {
      const report = reports.of(jobs[i]!);
      const error = e.state === 'unknown' ? e.error : errorRecord(report.outcome === 'failed' ? report.error : new InterruptedError('interrupted'));
      return failedResult(e, 'failed', error);
    });
    return { ok: false, exitCode: worstExitCode(results.map((r) => r.error.exitCode)), push: options.push, project, plan, results, written: [] };
  }
  return executeAndFinish(project, plan, options, deps, onEvent, records);
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

/** The options of a run checked against the project and resolved into the one settings object every phase reads. */
function resolveSettings(project: Project, options: BuildOptions, deps: BuildDeps): RunSettings {
  const unknownArgTargets = Object.keys(options.componentBuildArgs ?? {}).filter((n) => !project.components.some((c) => c.name === n));
  if (unknownArgTargets.length) {
    throw new UsageError(`--build-arg names unknown component(s): ${unknownArgTargets.join(', ')}`, {
      hint: `Known components: ${project.components.map((c) => c.name).join(', ')}`,
    });
  }
  const concurrency = options.concurrency ?? Math.max(1, availableParallelism());
  checkEngines(project, options.push !== undefined);
  // With engines: an image an earlier run left unpushed is in whichever engine built it: only the one engine of a list is asked.
  const engine = soleEngine(project, deps);
  const store: ImageStore = options.push
    ? registryImageStore(options.push, parsePushTarget(options.push), deps.registry, engine)
    : engineImageStore(engine ?? deps.engine);
  return {
    store,
    tags: options.tags ?? [],
    buildArgs: options.buildArgs ?? {},
    componentBuildArgs: options.componentBuildArgs ?? {},
    noCache: options.noCache ?? false,
    concurrency,
    builder: options.builder ?? 'auto',
    ...(options.platforms?.length ? { platforms: options.platforms } : {}),
    ...(options.buildNetwork ? { buildNetwork: options.buildNetwork } : {}),
    ...(options.contextTransfer ? { contextTransfer: options.contextTransfer } : {}),
    ...(options.secrets?.length ? { secrets: options.secrets } : {}),
    ...(options.ssh?.length ? { ssh: options.ssh } : {}),
    ...(options.sourceLabels ? { sourceLabels: options.sourceLabels } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}

/** `withPipeline`: also look up the pipeline's other components, so that its spec can be written. */
async function loadAndPlan(
  options: BuildOptions,
  deps: BuildDeps,
  records: RunRecords | undefined,
  withPipeline: boolean,
  lock?: LazyLock,
  /** A run that builds: what the components' builds need (secrets, SSH agents) is checked first. */
  building = false,
  /** A run that publishes: the signing key (--sign-key, or helmet-build.yaml's sign:) is opened first. */
  signing = false,
): Promise<{ project: Project; plan: Plan }> {
  const project = options.project ?? (await openProject(options.root));
  const selection = selectComponents(project, options.components ?? []);
  const settings = resolveSettings(project, options, deps);
  if (building) {
    const built = [...new Set([...selection.filter((c) => c.kind === 'built'), ...withBases(selection)])];
    checkBuildNeeds(built, { secrets: settings.secrets?.map((s) => s.id) ?? [], ssh: settings.ssh?.map((a) => a.id) ?? [], builder: settings.builder });
    checkPlatforms(built, { ...(settings.platforms ? { override: settings.platforms } : {}), builder: settings.builder });
  }
  // Loaded only to sign: a run without a key never loads the key and signature code.
  const signer = signing && (options.signKey ?? project.signKey) ? await (await import('./signer.js')).signerOf(project, options, settings, deps) : undefined;
  if (signer) settings.signer = signer;
  const local = settings.store.kind === 'engine' ? await engineOwnPlatform(project, settings, deps) : settings;
  lock?.take();
  const plan = await resolvePlan(
    project,
    local,
    {
      selection,
      includePipeline: settings.store.kind === 'registry' && withPipeline,
      ...(records ? { previousInputs: (c: string) => records.previousInputs(c) } : {}),
    },
    { registry: deps.registry, onEvent: deps.onEvent ?? ignoreEvents },
  );
  return { project, plan };
}

/** execute → publish, what each build made handed to the publish phase (its provenance). */
async function executeAndFinish(project: Project, plan: Plan, options: BuildOptions, deps: BuildDeps, onEvent: EventListener, records: RunRecords | undefined) {
  const recorder = new SuccessRecorder(project, plan, records, onEvent);
  const builds = new Map<string, Built>();
  const engines = runEngines(project, plan.settings.concurrency, deps, onEvent);
  const results = await executePlan(plan, { ...deps, engines, onEvent, onBuilt: (c, b) => builds.set(c, b) }, (r) => recorder.record(r));
  return finish(project, plan, await recorder.apply(results), options, onEvent, records, builds);
}

async function finish(
  project: Project,
  plan: Plan,
  results: ComponentResult[],
  options: BuildOptions,
  onEvent: EventListener,
  records: RunRecords | undefined,
  builds?: Map<string, Built>,
): Promise<BuildRunResult> {
  const interrupted = () => options.signal?.aborted === true;
  const published = interrupted() ? results : await publish(project, plan, results, { records, builds, signal: options.signal }, onEvent);
  // An interrupted run writes nothing more: earlier records stay as they were.
  const recordFailure = !interrupted() && records ? recordRun(records, published, onEvent) : undefined;
  const codes = [
    ...published.flatMap((r) => (r.action === 'failed' || r.action === 'blocked' ? [r.error.exitCode] : [])),
    ...(recordFailure ? [recordFailure.exitCode] : []),
  ];
  const exitCode = interrupted() ? ExitCode.interrupted : worstExitCode(codes);
  return { ok: exitCode === ExitCode.ok, exitCode, push: options.push, project, plan, results: published, written: records?.written ?? [] };
}

/** build.json for the whole run; a write the file system refuses fails the run (exit 1), and every file written before stays. */
function recordRun(records: RunRecords, results: ComponentResult[], onEvent: EventListener): HelmetError | undefined {
  try {
    records.runFinished(results);
    return undefined;
  } catch (e) {
    if (!isHelmetError(e)) throw e;
    onEvent({ type: 'warning', message: messageWithHint(e) });
    return e;
  }
}
