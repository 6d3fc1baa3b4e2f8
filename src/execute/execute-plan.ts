/**
 * The execute phase of a build: from the plan, a build job per component that needs one and, when
 * the images go to a registry, a push job (push + verify) per image the registry lacks, on one DAG.
 * A component that starts from another waits for the job that makes its base's image. Jobs return
 * what they made; a component's result is derived from its plan entry and those outputs, and handed
 * to `onComponentDone` as soon as its last job succeeded (outside the job), so it is recorded at once.
 */
import { decideEngineSetup } from '../engine/engine-setup.js';
import type { EventListener } from '../events.js';
import { DagExecutor, type Job } from '../jobs/dag.js';
import { type ComponentResult, type SucceededResult, succeeded } from '../model/component-result.js';
import type { BuiltEntry, PlanEntry } from '../model/plan-entry.js';
import type { Plan } from '../plan/plan.js';
import type { PlannedBuild } from '../plan/planned-builds.js';
import { type CredentialSource, engineAuth, type RegistryAuth } from '../registry/credentials.js';
import type { RegistryApi } from '../registry/registry-api.js';
import type { Built, OnEngine } from './build-job.js';
import type { EnginePool, PoolEngine } from './engine-pool.js';
import { LayerUploads } from './layer-uploads.js';
import type { PushDeps, Pushed } from './push-job.js';
import { type FollowingEntry, followedResult, jobsFailure, madeResult, plannedFailure, reusedResult } from './results.js';

export interface ExecuteDeps {
  /** The engines builds run on (DOCKER_HOST's alone, without `engines:`); the first also pushes what an earlier run built. */
  engines: EnginePool;
  registry: RegistryApi;
  credentials: CredentialSource;
  onEvent: EventListener;
  /** What each build made, as it is made (the publish phase attests it). */
  onBuilt?: (component: string, built: Built) => void;
}

type Output = { built: Built } | { pushed: Pushed };

type MadeEntry = Extract<BuiltEntry, { state: 'needs-build' | 'needs-push' }>;

/** The jobs of one component that needs an image made. */
interface ComponentJobs {
  entry: MadeEntry;
  build?: Job<Output>;
  push?: Job<Output>;
  built?: Built;
  pushed?: Pushed;
}

/** What the jobs of one run share: the engine set up once, the source labels read once, the images made so far. */
interface RunShared {
  plan: Plan;
  deps: ExecuteDeps;
  /** Runs a build on an engine of the pool, with that engine's setup decided once per run. */
  onEngine: OnEngine;
  sourceLabels: () => Promise<Record<string, string>>;
  pushRegistry?: string;
  credentials: (registry: string) => Promise<RegistryAuth>;
  made: Map<string, ComponentJobs>;
  layerUploads: LayerUploads;
}

/** Run the plan's builds and pushes; returns a result per selected component (bases first). */
export async function executePlan(plan: Plan, deps: ExecuteDeps, onComponentDone?: (result: SucceededResult) => void): Promise<ComponentResult[]> {
  const { settings } = plan;
  const shared = runShared(plan, deps);
  const selected = plan.entries.filter((e) => e.selected);
  const all: Job<Output>[] = [];
  for (const entry of selected) {
    if (entry.kind !== 'built' || (entry.state !== 'needs-build' && entry.state !== 'needs-push')) continue;
    const jobs: ComponentJobs = { entry };
    shared.made.set(entry.component, jobs);
    if (entry.state === 'needs-build') jobs.build = buildJob(entry, jobs, shared);
    if (settings.store.kind === 'registry') jobs.push = pushJob(entry, jobs, shared);
    all.push(...[jobs.build, jobs.push].filter((j) => j !== undefined));
  }

  for (const entry of selected) if (entry.state === 'up-to-date' || entry.state === 'needs-tag') onComponentDone?.(reusedResult(entry));
  // Prebuilt components that name an image built in this run take its pin once it is made.
  const following = selected.filter((e): e is FollowingEntry => e.state === 'pinned-after-build');
  const reports = await new DagExecutor({ build: deps.engines.slots(), push: settings.concurrency }, deps.onEvent, settings.signal).run(all, (job, report) => {
    const jobs = shared.made.get(job.subject);
    if (!jobs || report.outcome !== 'succeeded' || job !== lastJob(jobs)) return;
    const result = madeResult(jobs.entry, jobs.built, jobs.pushed);
    onComponentDone?.(result);
    for (const entry of following) {
      const followed = entry.imageOf === job.subject ? followedResult(entry, result) : undefined;
      if (followed && succeeded(followed)) onComponentDone?.(followed);
    }
  });
  const results = new Map<string, ComponentResult>();
  const resultOf = (entry: PlanEntry): ComponentResult => {
    if (entry.state === 'up-to-date' || entry.state === 'needs-tag') return reusedResult(entry);
    if (entry.state === 'unknown' || entry.state === 'blocked') return plannedFailure(entry);
    if (entry.state === 'pinned-after-build') return followedResult(entry, results.get(entry.imageOf!));
    const jobs = shared.made.get(entry.component)!;
    const reportsOf = [jobs.build, jobs.push].flatMap((j) => (j ? [reports.of(j)] : []));
    return jobsFailure(entry, reportsOf, settings.signal) ?? madeResult(jobs.entry, jobs.built, jobs.pushed);
  };
  // Bases first, and an image before the prebuilt components that name it.
  return selected.map((entry) => {
    const result = resultOf(entry);
    results.set(entry.component, result);
    return result;
  });
}

function runShared(plan: Plan, deps: ExecuteDeps): RunShared {
  const { settings } = plan;
  /** `make` run on first use, its promise shared by every later use. */
  const memoized = <T>(make: () => Promise<T>): (() => Promise<T>) => {
    let value: Promise<T> | undefined;
    return () => {
      value ??= make();
      return value;
    };
  };
  /** `make` run once per engine, on its first use. */
  const perEngine = <T>(make: (engine: PoolEngine) => Promise<T>) => {
    const made = new Map<PoolEngine, Promise<T>>();
    return (engine: PoolEngine): Promise<T> => {
      if (!made.has(engine)) made.set(engine, make(engine));
      return made.get(engine)!;
    };
  };
  const setupOf = perEngine((engine) => decideEngineSetup(engine.client, settings.builder, settings.buildNetwork, settings.contextTransfer));
  const versionOf = perEngine((engine) =>
    engine.client.describe().then(
      (facts): string | undefined => facts.version,
      () => undefined,
    ),
  );
  const onEngine: OnEngine = (platform, work) =>
    deps.engines.withEngine(platform, async ({ engine, emulated }) =>
      work({ ...(engine.host ? { host: engine.host } : {}), client: engine.client, setup: await setupOf(engine), emulated, version: () => versionOf(engine) }),
    );
  const pushRegistry = settings.store.kind === 'registry' ? settings.store.target.registry : undefined;
  return {
    plan,
    deps,
    onEngine,
    sourceLabels: memoized(() => settings.sourceLabels?.() ?? Promise.resolve({})),
    ...(pushRegistry ? { pushRegistry } : {}),
    credentials: async (registry: string): Promise<RegistryAuth> => engineAuth(registry, await deps.credentials.forPull(registry, pushRegistry)),
    made: new Map(),
    layerUploads: new LayerUploads(),
  };
}

const lastJob = (jobs: ComponentJobs | undefined) => jobs?.push ?? jobs?.build;

/** The image a dependant builds from: what its base's jobs made, else what the plan found. */
function imageOf(name: string, shared: RunShared): string | undefined {
  const { plan, made } = shared;
  const { store } = plan.settings;
  const entry = plan.entries.find((e) => e.component === name);
  if (entry?.kind !== 'built') return undefined;
  const jobs = made.get(name);
  const exists = jobs?.built !== undefined || entry.state === 'up-to-date' || entry.state === 'needs-tag';
  // In the engine, by its content tag: BuildKit resolves a FROM name locally, never an image ID.
  if (store.kind === 'engine') return exists ? `${entry.repository}:${entry.contentTag}` : undefined;
  if (jobs) return jobs.pushed?.image;
  return entry.state === 'up-to-date' || entry.state === 'needs-tag' ? entry.image : undefined;
}

function buildJob(entry: MadeEntry, jobs: ComponentJobs, shared: RunShared): Job<Output> {
  const { settings } = shared.plan;
  const planned = shared.plan.builds.get(entry.component)!;
  const baseJob = entry.base ? lastJob(shared.made.get(entry.base)) : undefined;
  return {
    id: `build:${entry.component}`,
    kind: 'build',
    subject: entry.component,
    title: `building ${entry.repository}:${entry.contentTag}`,
    needs: baseJob ? [baseJob] : [],
    run: async (ctx) => {
      const labels = await shared.sourceLabels();
      const layerCache = settings.store.kind === 'registry' && !settings.noCache;
      const baseImage = entry.base ? imageOf(entry.base, shared) : undefined;
      const pushedImage = pushedImageOf(planned, shared);
      const recipe = {
        ...(layerCache ? { cacheRepository: entry.repository } : {}),
        credentials: shared.credentials,
        ...(shared.pushRegistry ? { pushRegistry: shared.pushRegistry } : {}),
        secrets: settings.secrets ?? [],
        ssh: settings.ssh ?? [],
        ...(baseImage ? { baseImage } : {}),
        ...(planned.platformBuilds && pushedImage ? { pushedImage } : {}),
        sourceLabels: labels,
        noCache: settings.noCache,
        signal: settings.signal,
      };
      // Loaded by the first build: a run that builds nothing (a no-op) never compiles it.
      const { buildImage } = await import('./build-job.js');
      const built = await buildImage(entry, planned, recipe, shared.onEngine, ctx);
      jobs.built = built;
      shared.deps.onBuilt?.(entry.component, built);
      return { result: { built }, summary: `built ${built.imageId.slice(0, 19)}` };
    },
  };
}

/** The registry's digest of a tag of the component's repository, for a run with --push (platform images reused across platform sets). */
function pushedImageOf(planned: PlannedBuild, shared: RunShared): ((tag: string) => Promise<string | undefined>) | undefined {
  const { store } = shared.plan.settings;
  if (store.kind !== 'registry' || shared.plan.settings.noCache) return undefined;
  const repo = store.location(planned.component.build.image);
  return (tag: string) => shared.deps.registry.manifestDigest(repo.registry, repo.path, tag);
}

/** What a push needs: the engine that built each image (the pool's first for an image an earlier run built). */
function pushDeps(shared: RunShared): PushDeps {
  const { engines, registry, credentials, onEvent } = shared.deps;
  return {
    engineAt: (host) => (host === undefined ? engines.first() : engines.clientOf(host)),
    layerUploads: shared.layerUploads,
    registry,
    credentials,
    onEvent,
  };
}

function pushJob(entry: MadeEntry, jobs: ComponentJobs, shared: RunShared): Job<Output> {
  const { store } = shared.plan.settings;
  if (store.kind !== 'registry') throw new Error('a push job needs a registry');
  const repo = store.location(shared.plan.builds.get(entry.component)!.component.build.image);
  return {
    id: `push:${entry.component}`,
    kind: 'push',
    subject: entry.component,
    title: `pushing ${entry.repository}:${entry.contentTag}`,
    needs: jobs.build ? [jobs.build] : [],
    run: async (ctx) => {
      const { moveCacheTag, pushImage } = await import('./push-job.js');
      const pushed = await pushImage(entry, repo, pushDeps(shared), ctx, jobs.built);
      if (jobs.built?.inlineCache) await moveCacheTag(entry, repo, pushDeps(shared));
      jobs.pushed = pushed;
      return { result: { pushed }, summary: `pushed ${pushed.image}` };
    },
  };
}
