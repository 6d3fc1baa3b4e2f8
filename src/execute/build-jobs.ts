/**
 * The execute phase of a build: from the plan, a build job per component that needs one and a push
 * job (push + verify against the registry) per image the registry lacks, on one DAG. A component
 * that starts from another waits for the job that makes its base's image. Jobs return what they
 * made; a component's result is derived from the plan entry and those outputs, and handed to
 * `onComponentDone` as soon as its last job succeeded, so it is recorded at once.
 */
import type { Builder, EngineClient, RegistryAuth } from '../engine/engine-client.js';
import {
  ContextChangedError,
  DependencyFailedError,
  DigestMismatchError,
  type ErrorRecord,
  errorRecord,
  InterruptedError,
  isHelmetError,
  PushFailedError,
  RegistryUnreachableError,
  UsageError,
} from '../errors.js';
import type { EventListener } from '../events.js';
import { BASE_IMAGE_LABEL, COMPONENT_LABEL, INPUT_DIGEST_LABEL, type Plan, type PlanEntry, type PlannedBuild } from '../plan/plan.js';
import { type CredentialSource, engineAuth } from '../registry/credentials.js';
import { type ImageRepository, imageRepository } from '../registry/image-ref.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { retryPolicy, TransientFault, withRetries } from '../registry/retry.js';
import type { ComponentResult } from './component-result.js';
import { DagExecutor, type Job, type JobContext, type JobLimits, type JobReport } from './dag.js';

export interface ExecuteDeps {
  engine: EngineClient;
  registry: RegistryClient;
  credentials: CredentialSource;
  onEvent: EventListener;
}

export interface ExecuteOptions {
  limits: JobLimits;
  noCache?: boolean;
  /** @default auto: BuildKit where the engine has it */
  builder?: BuilderChoice;
  /** Network of RUN steps for components that set none. @default host on an engine without a bridge network */
  buildNetwork?: string;
  /** Image labels describing the source (git); asked for only when something is built. */
  sourceLabels?: () => Promise<Record<string, string>>;
  signal?: AbortSignal;
  /** Called once per selected component that succeeded, as soon as it did. */
  onComponentDone?: (result: ComponentResult) => void;
}

export type BuilderChoice = 'auto' | Builder;

/** Tag that points at a component's last BuildKit build in the registry: the layer cache of fresh engines. */
export const CACHE_TAG = 'buildcache';

/** The build settings that depend on the engine, decided once per run. */
interface EngineSetup {
  builder: Builder;
  network?: string;
}

/** What a build job made. */
interface Built {
  imageId: string;
  baseImage?: string;
  /** Built with inline cache metadata (BuildKit, with a push target). */
  inlineCache: boolean;
  ms: number;
}

/** What a push job made. */
interface Pushed {
  digest: string;
  image: string;
  ms: number;
}

type Output = { built: Built } | { pushed: Pushed };

/** Run the plan's builds and pushes; returns a result per selected component (bases first). */
export async function executePlan(plan: Plan, options: ExecuteOptions, deps: ExecuteDeps): Promise<ComponentResult[]> {
  const selected = plan.entries.filter((e) => e.selected);
  const outputs = new Map<string, { built?: Built; pushed?: Pushed }>();
  const imageOf = (name: string): string | undefined => {
    const o = outputs.get(name);
    return o?.pushed?.image ?? (plan.target ? undefined : o?.built?.imageId) ?? plan.entries.find((e) => e.component === name)?.image;
  };
  let engineReady: Promise<void> | undefined;
  const engineUp = () => {
    engineReady ??= deps.engine.ping();
    return engineReady;
  };
  let setup: Promise<EngineSetup> | undefined;
  const engineSetup = () => {
    setup ??= engineUp().then(() => decideEngineSetup(deps.engine, options));
    return setup;
  };
  let labels: Promise<Record<string, string>> | undefined;
  const sourceLabels = () => {
    labels ??= options.sourceLabels?.() ?? Promise.resolve({});
    return labels;
  };

  const jobs: Job<Output>[] = [];
  const lastJob = new Map<string, string>();
  for (const entry of selected) {
    if (entry.state === 'up-to-date' || entry.state === 'needs-tag') {
      options.onComponentDone?.(componentResult(entry, undefined, undefined));
      continue;
    }
    if (entry.state !== 'needs-build' && entry.state !== 'needs-push') continue;
    const planned = plan.builds.get(entry.component)!;
    const record = (o: Output) => {
      const done = { ...outputs.get(entry.component), ...o };
      outputs.set(entry.component, done);
      if ('pushed' in o || !plan.target) options.onComponentDone?.(componentResult(entry, done.built, done.pushed));
    };
    if (entry.state === 'needs-build') {
      const baseJob = entry.base ? lastJob.get(entry.base) : undefined;
      jobs.push({
        id: `build:${entry.component}`,
        kind: 'build',
        subject: entry.component,
        title: `building ${entry.repository}:${entry.contentTag}`,
        needs: baseJob ? [baseJob] : [],
        run: async (ctx) => {
          const [engine, source] = await Promise.all([engineSetup(), sourceLabels()]);
          const cache =
            plan.target && engine.builder === 'buildkit' && !options.noCache ? imageRepository(plan.target, planned.component.build.image) : undefined;
          const registryAuth = plan.target
            ? { [plan.target.registry]: engineAuth(plan.target.registry, await deps.credentials.get(plan.target.registry)) }
            : {};
          const settings = { ...engine, network: planned.component.build.network ?? engine.network, cache, registryAuth };
          const built = await buildImage(entry, planned, entry.base ? imageOf(entry.base) : undefined, source, settings, options, deps.engine, ctx);
          record({ built });
          return { result: { built }, summary: `built ${built.imageId.slice(0, 19)}` };
        },
      });
      lastJob.set(entry.component, `build:${entry.component}`);
    }
    if (plan.target) {
      const target = plan.target;
      jobs.push({
        id: `push:${entry.component}`,
        kind: 'push',
        subject: entry.component,
        title: `pushing ${entry.repository}:${entry.contentTag}`,
        needs: entry.state === 'needs-build' ? [`build:${entry.component}`] : [],
        run: async (ctx) => {
          await engineUp();
          const repo = imageRepository(target, planned.component.build.image);
          const pushed = await pushImage(entry, repo, deps, ctx);
          if (outputs.get(entry.component)?.built?.inlineCache) await moveCacheTag(entry, repo, deps);
          record({ pushed });
          return { result: { pushed }, summary: `pushed ${pushed.image}` };
        },
      });
      lastJob.set(entry.component, `push:${entry.component}`);
    }
  }

  const reports = await new DagExecutor(options.limits, deps.onEvent, options.signal).run(jobs);
  return selected.map((entry) => {
    const failure = failureOf(entry, reports, options.signal);
    if (failure) return { ...componentResult(entry, undefined, undefined), ...failure };
    const o = outputs.get(entry.component);
    return componentResult(entry, o?.built, o?.pushed);
  });
}

/** Which builder, and the default network of RUN steps, for this engine. */
async function decideEngineSetup(engine: EngineClient, options: ExecuteOptions): Promise<EngineSetup> {
  const caps = await engine.capabilities();
  const wanted = options.builder ?? 'auto';
  if (wanted === 'buildkit' && !caps.buildkit) {
    throw new UsageError('the Docker engine has no BuildKit (it needs API 1.39 or later on Linux)', {
      hint: 'Use --builder classic, or an engine with BuildKit.',
    });
  }
  const builder: Builder = wanted === 'auto' ? (caps.buildkit ? 'buildkit' : 'classic') : wanted;
  // BuildKit's RUN steps join the bridge network unless told otherwise; an engine without one fails them.
  const network = options.buildNetwork ?? (builder === 'buildkit' && !caps.bridge ? 'host' : undefined);
  return { builder, ...(network ? { network } : {}) };
}

interface BuildSettings extends EngineSetup {
  /** With a push target under BuildKit: embed inline cache, and reuse layers from the last build's cache tag. */
  cache?: ImageRepository;
  registryAuth: Record<string, RegistryAuth>;
}

async function buildImage(
  entry: PlanEntry,
  planned: PlannedBuild,
  baseImage: string | undefined,
  sourceLabels: Record<string, string>,
  settings: BuildSettings,
  options: ExecuteOptions,
  engine: EngineClient,
  ctx: JobContext,
): Promise<Built> {
  const tag = `${entry.repository}:${entry.contentTag}`;
  // Loaded here: a run that builds nothing never loads the tar writer.
  const { createContextTar } = await import('../context/context-tar.js');
  const tar = createContextTar(planned.context, settings.builder);
  const t0 = Date.now();
  const imageId = await engine.build({
    name: entry.component,
    context: tar.stream,
    dockerfile: tar.dockerfile,
    tags: [tag],
    buildArgs: {
      ...planned.buildArgs,
      ...(baseImage ? { BASE_IMAGE: baseImage } : {}),
      ...(settings.cache ? { BUILDKIT_INLINE_CACHE: '1' } : {}),
    },
    builder: settings.builder,
    ...(settings.network ? { network: settings.network } : {}),
    ...(planned.component.build.target ? { target: planned.component.build.target } : {}),
    ...(settings.cache ? { cacheFrom: [`${settings.cache.name}:${CACHE_TAG}`] } : {}),
    registryAuth: settings.registryAuth,
    labels: {
      ...sourceLabels,
      [INPUT_DIGEST_LABEL]: entry.inputDigest!,
      [COMPONENT_LABEL]: entry.component,
      ...(baseImage ? { [BASE_IMAGE_LABEL]: baseImage } : {}),
    },
    noCache: options.noCache,
    platform: planned.component.build.platform,
    onLog: (line) => ctx.log(line),
    onStep: (step) => {
      ctx.step(step);
      if (step.state === 'started') ctx.progress(step.name);
      else if (step.state === 'cached') ctx.progress(`CACHED ${step.name}`);
    },
    signal: options.signal,
  });
  const changed = tar.changedEntries();
  if (changed.length) {
    // The image holds other content than its content tag names: never leave that tag behind.
    await engine.removeImage(tag).catch(() => undefined);
    throw new ContextChangedError(`files changed while the build context was sent: ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''}`, {
      hint: 'Re-run once nothing is writing into the component folder.',
    });
  }
  return { imageId, baseImage, inlineCache: settings.cache !== undefined, ms: Date.now() - t0 };
}

/** Point the cache tag at the image just pushed, so the next build on a fresh engine can reuse its layers. */
async function moveCacheTag(entry: PlanEntry, repo: ImageRepository, deps: ExecuteDeps): Promise<void> {
  try {
    await deps.registry.copyTag(repo.registry, repo.path, entry.contentTag!, CACHE_TAG);
  } catch (e) {
    if (!isHelmetError(e)) throw e;
    deps.onEvent({ type: 'warning', subject: entry.component, message: `the layer cache tag ${repo.name}:${CACHE_TAG} was not moved: ${e.message}` });
  }
}

/** Push the content tag, and check the digest the engine reports against the registry's own answer. */
async function pushImage(entry: PlanEntry, repo: ImageRepository, deps: ExecuteDeps, ctx: JobContext): Promise<Pushed> {
  const t0 = Date.now();
  const auth = engineAuth(repo.registry, await deps.credentials.get(repo.registry));
  let reported = 0;
  const pushOnce = () =>
    deps.engine
      .push({
        repository: repo.name,
        tag: entry.contentTag!,
        auth,
        onProgress: (p) => {
          // The engine reports every few KB; a finished layer always, the running count five times a second.
          if (!p.finishedLayer && Date.now() - reported < 200) return;
          reported = Date.now();
          ctx.pushed(p);
        },
      })
      .catch((e: unknown) => {
        // A push is idempotent: what reached the registry is skipped next time.
        if (isTransientPushError(e)) throw new TransientFault(e.message, undefined, e);
        throw e;
      });
  const digest = await withRetries(retryPolicy(), pushOnce, (fault, attempt) =>
    ctx.progress(`push attempt ${attempt} failed (${fault.message}); trying again`),
  ).catch((e: unknown) => {
    throw e instanceof TransientFault && e.final ? e.final : e;
  });
  const confirmed = await deps.registry.manifestDigest(repo.registry, repo.path, entry.contentTag!);
  if (confirmed !== digest) {
    throw new DigestMismatchError(`the engine pushed ${repo.name}:${entry.contentTag} as ${digest}, but the registry reports ${confirmed ?? 'no such tag'}`, {
      hint: 'Another writer may be pushing the same tag; re-run, and check the registry.',
    });
  }
  return { digest, image: `${repo.name}@${digest}`, ms: Date.now() - t0 };
}

/** A push failure another attempt may not have: the registry unreachable, or an error status of its own. */
function isTransientPushError(e: unknown): e is Error {
  if (e instanceof RegistryUnreachableError) return true;
  return e instanceof PushFailedError && /\b(5\d\d|429)\b|EOF|connection reset|timeout/i.test(e.message);
}

/** A component's result from its plan entry and what its jobs made. */
function componentResult(entry: PlanEntry, built: Built | undefined, pushed: Pushed | undefined): ComponentResult {
  const common = {
    component: entry.component,
    ...(entry.repository ? { repository: entry.repository } : {}),
    tags: entry.contentTag ? [entry.contentTag] : [],
    ...(entry.inputDigest ? { inputDigest: entry.inputDigest } : {}),
    durations: { ...(built ? { buildMs: built.ms } : {}), ...(pushed ? { pushMs: pushed.ms } : {}) },
  };
  const imageId = built?.imageId ?? (entry.state === 'needs-push' ? entry.imageId : entry.pinnedBy === 'local-image-id' ? entry.image : undefined);
  const base = { ...common, ...(imageId ? { imageId } : {}), ...(built?.baseImage ? { baseImage: built.baseImage } : {}) };
  if (pushed) return { ...base, action: 'pushed', image: pushed.image, pinnedBy: 'registry-digest', digest: pushed.digest };
  if (built) return { ...base, action: 'built', image: built.imageId, pinnedBy: 'local-image-id' };
  return {
    ...base,
    action: 'reused',
    ...(entry.image ? { image: entry.image, pinnedBy: entry.pinnedBy } : {}),
    ...(entry.digest ? { digest: entry.digest } : {}),
  };
}

/** Why a component did not succeed, from its plan entry and its jobs' reports; undefined when it did. */
function failureOf(
  entry: PlanEntry,
  reports: Map<string, JobReport<Output>>,
  signal: AbortSignal | undefined,
): Pick<ComponentResult, 'action' | 'error'> | undefined {
  if (entry.state === 'unknown') return { action: 'failed', error: entry.error };
  if (entry.state === 'blocked') return { action: 'blocked', error: errorRecord(new DependencyFailedError(`not built: ${entry.reason}`)) };
  for (const id of [`build:${entry.component}`, `push:${entry.component}`]) {
    const report = reports.get(id);
    if (!report || report.outcome === 'succeeded') continue;
    if (report.outcome === 'failed') return { action: 'failed', error: errorRecord(report.error) };
    if (report.reason === 'interrupted' || signal?.aborted)
      return { action: 'failed', error: errorRecord(new InterruptedError('interrupted before it started')) };
    const error: ErrorRecord = errorRecord(new DependencyFailedError(`not built: the component it starts from, ${entry.base}, failed`));
    return { action: 'blocked', error };
  }
  return undefined;
}
