/**
 * The plan phase: compute every component's input digest (chained through `from:` on the base's
 * input digest, so the whole graph is known before anything is built), then ask the registry — or,
 * without --push, the engine — what exists. The result is data: per component, one state that the
 * execute and publish phases act on, and that `plan --json` prints.
 */
import { join } from 'node:path';
import { type BuildContext, readBuildContext } from '../context/build-context.js';
import { describeInputChanges, type InputRecord, inputRecord, inputTag } from '../context/input-digest.js';
import { CACHE_DIR, StatCache } from '../context/stat-cache.js';
import type { EngineClient } from '../engine/engine-client.js';
import { EngineUnreachableError, type ErrorRecord, errorMessage, errorRecord } from '../errors.js';
import type { EventListener } from '../events.js';
import { DagExecutor, type Job } from '../execute/dag.js';
import { withBases } from '../project/load-project.js';
import type { BuiltComponent, Component, Project } from '../project/model.js';
import { imageRepository, type PushTarget, parseImageRef, splitReference } from '../registry/image-ref.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { PLAN_FORMAT_VERSION, type PlanEntry } from './plan-format.js';

export type { PlanEntry, PlanState } from './plan-format.js';

/** Image labels helmet-build sets. */
export const INPUT_DIGEST_LABEL = 'io.helmet.input-digest';
export const COMPONENT_LABEL = 'io.helmet.component';
export const BASE_IMAGE_LABEL = 'io.helmet.base-image';

/** What the later phases need beside the entry: the walked context and the build args. */
export interface PlannedBuild {
  component: BuiltComponent;
  context: BuildContext;
  /** Component args, then --build-arg, then per-component --build-arg; BASE_IMAGE is added at build time. */
  buildArgs: Record<string, string>;
  inputs: InputRecord;
}

export interface Plan {
  push?: string;
  target?: PushTarget;
  /** User tags (`--tag`) the selection should carry. */
  tags: string[];
  /** Bases first. */
  entries: PlanEntry[];
  builds: Map<string, PlannedBuild>;
}

export interface PlanOptions {
  push?: string;
  target?: PushTarget;
  /** Component names; empty = all. */
  selection: Component[];
  /** Look up the pipeline's other components too, so that its spec can be written. */
  includePipeline: boolean;
  tags?: string[];
  buildArgs?: Record<string, string>;
  componentBuildArgs?: Record<string, Record<string, string>>;
  /** Selected built components need a build whatever exists. */
  noCache?: boolean;
  /** The inputs of each component's last recorded build, for "what changed". */
  previousInputs?: (component: string) => InputRecord | undefined;
  signal?: AbortSignal;
}

export interface PlanDeps {
  engine: EngineClient;
  registry: RegistryClient;
  onEvent: EventListener;
}

export async function resolvePlan(project: Project, options: PlanOptions, deps: PlanDeps): Promise<Plan> {
  // The selection includes the components it starts from: their images are its inputs.
  const selected = new Set([...options.selection, ...withBases(options.selection)].map((c) => c.name));
  const wanted = new Set(selected);
  if (options.includePipeline && project.pipeline) {
    const used = project.pipeline.steps.map((s) => s.component);
    for (const c of [...used, ...withBases(used)]) wanted.add(c.name);
  }
  const components = project.components.filter((c) => wanted.has(c.name));
  const tags = options.tags ?? [];

  // Digests first, bases before dependants: a dependant's digest chains on its base's.
  const builds = new Map<string, PlannedBuild>();
  const statCache = StatCache.open(project.root);
  const cacheDir = join(project.root, CACHE_DIR);
  for (const c of components) {
    if (c.kind !== 'built') continue;
    const buildArgs = { ...c.build.args, ...options.buildArgs, ...options.componentBuildArgs?.[c.name] };
    if (c.base) delete buildArgs.BASE_IMAGE;
    const context = readBuildContext(c.build.contextDir, c.build.dockerfilePath, { hasher: statCache, exclude: [cacheDir] });
    const inputs = inputRecord({
      context,
      buildArgs,
      platform: c.build.platform,
      target: c.build.target,
      baseInputDigest: c.base ? builds.get(c.base.name)!.inputs.inputDigest : undefined,
    });
    builds.set(c.name, { component: c, context, buildArgs, inputs });
  }
  statCache.save();

  const lookups: Job<PlanEntry>[] = components.map((c) => ({
    id: `lookup:${c.name}`,
    kind: 'lookup',
    subject: c.name,
    title: c.kind === 'built' ? `looking up ${contentRef(c, builds, options.target)}` : `resolving ${c.image}`,
    needs: [],
    run: async () => {
      const entry =
        c.kind === 'built'
          ? await lookupBuilt(c, builds.get(c.name)!, selected.has(c.name), tags, options, deps)
          : await lookupPrebuilt(c, selected.has(c.name), deps);
      return { result: entry, summary: describeEntry(entry) };
    },
  }));
  const reports = await new DagExecutor({}, deps.onEvent, options.signal).run(lookups);
  const entries = components.map((c): PlanEntry => {
    const report = reports.get(`lookup:${c.name}`)!;
    if (report.outcome === 'succeeded') return report.result;
    const error: ErrorRecord = report.outcome === 'failed' ? errorRecord(report.error) : { code: 'INTERRUPTED', exitCode: 130, message: report.reason };
    return { component: c.name, kind: c.kind, selected: selected.has(c.name), state: 'unknown', error };
  });
  blockDependants(entries);
  const plan: Plan = { push: options.push, target: options.target, tags, entries, builds };
  deps.onEvent({ type: 'plan', push: options.push, entries });
  return plan;
}

function contentRef(c: BuiltComponent, builds: Map<string, PlannedBuild>, target: PushTarget | undefined): string {
  const name = target ? imageRepository(target, c.build.image).name : c.build.image;
  return `${name}:${inputTag(builds.get(c.name)!.inputs.inputDigest)}`;
}

async function lookupBuilt(
  c: BuiltComponent,
  planned: PlannedBuild,
  selected: boolean,
  tags: string[],
  options: PlanOptions,
  deps: PlanDeps,
): Promise<PlanEntry> {
  const target = options.target;
  const inputDigest = planned.inputs.inputDigest;
  const contentTag = inputTag(inputDigest);
  const repo = target ? imageRepository(target, c.build.image) : undefined;
  const repository = repo?.name ?? c.build.image;
  const common = { component: c.name, kind: 'built' as const, selected, ...(c.base ? { base: c.base.name } : {}), inputDigest, repository, contentTag };
  const wantedTags = selected ? tags : [];
  const needsBuild = (where: string): PlanEntry => {
    const before = options.previousInputs?.(c.name);
    const changes =
      before && before.inputDigest !== inputDigest
        ? describeInputChanges(before, planned.inputs, { dockerfile: relativeDockerfile(c), base: c.base?.name })
        : [];
    const missing = `${repository}:${contentTag} is not in ${where}`;
    return {
      ...common,
      state: 'needs-build',
      reason: changes.length ? `${changes.join('; ')} (${missing})` : `no image for its current inputs (${missing})`,
      ...(changes.length ? { changes } : {}),
    };
  };
  if (selected && options.noCache) return { ...common, state: 'needs-build', reason: 'a build is forced by --no-cache' };

  if (repo) {
    const digest = await deps.registry.manifestDigest(repo.registry, repo.path, contentTag);
    if (digest) {
      const pinned = { ...common, image: `${repository}@${digest}`, pinnedBy: 'registry-digest' as const, digest };
      const current = await Promise.all(wantedTags.map((t) => deps.registry.manifestDigest(repo.registry, repo.path, t)));
      const missingTags = wantedTags.filter((_, i) => current[i] !== digest);
      return missingTags.length ? { ...pinned, state: 'needs-tag', missingTags } : { ...pinned, state: 'up-to-date' };
    }
    const local = await localImage(deps.engine, `${repository}:${contentTag}`, inputDigest);
    return local ? { ...common, state: 'needs-push', imageId: local } : needsBuild('the registry');
  }
  const local = await localImage(deps.engine, `${repository}:${contentTag}`, inputDigest);
  if (!local) return needsBuild('the engine');
  const pinned = { ...common, image: local, pinnedBy: 'local-image-id' as const };
  const current = await Promise.all(wantedTags.map((t) => deps.engine.inspectImage(`${repository}:${t}`)));
  const missingTags = wantedTags.filter((_, i) => current[i]?.id !== local);
  return missingTags.length ? { ...pinned, state: 'needs-tag', missingTags } : { ...pinned, state: 'up-to-date' };
}

/** The engine's image for `ref` when its input-digest label matches; an engine that cannot be reached has none. */
async function localImage(engine: EngineClient, ref: string, inputDigest: string): Promise<string | undefined> {
  try {
    const info = await engine.inspectImage(ref);
    return info && info.labels[INPUT_DIGEST_LABEL] === inputDigest ? info.id : undefined;
  } catch (e) {
    // A plan with --push needs no engine; a build of it will say the engine is unreachable.
    if (e instanceof EngineUnreachableError) return undefined;
    throw e;
  }
}

/** A component without build: keeps its image, pinned to the registry's digest when it can be resolved. */
async function lookupPrebuilt(c: Component & { kind: 'prebuilt' }, selected: boolean, deps: PlanDeps): Promise<PlanEntry> {
  const ref = parseImageRef(c.image);
  const common = { component: c.name, kind: 'prebuilt' as const, selected, repository: `${ref.registry}/${ref.repository}`, state: 'up-to-date' as const };
  if (ref.digest) return { ...common, image: c.image, digest: ref.digest, pinnedBy: 'registry-digest' };
  try {
    const digest = await deps.registry.manifestDigest(ref.registry, ref.repository, ref.tag ?? 'latest');
    if (digest) return { ...common, image: `${splitReference(c.image).name}@${digest}`, digest, pinnedBy: 'registry-digest' };
    deps.onEvent({ type: 'warning', subject: c.name, message: `cannot pin ${c.image} to a digest: the registry has no such tag; using the tag` });
  } catch (e) {
    deps.onEvent({ type: 'warning', subject: c.name, message: `cannot pin ${c.image} to a digest: ${errorMessage(e)}; using the tag` });
  }
  return { ...common, image: c.image, pinnedBy: 'tag' };
}

/** A component that needs a build while a base cannot provide an image is blocked by that base. */
function blockDependants(entries: PlanEntry[]): void {
  const byName = new Map(entries.map((e) => [e.component, e]));
  for (const [i, e] of entries.entries()) {
    if (e.state !== 'needs-build' || !e.base) continue;
    const base = byName.get(e.base)!;
    if (base.state === 'unknown' || base.state === 'blocked') {
      entries[i] = { ...e, state: 'blocked', by: [base.component], reason: `${base.component}, the component it starts from, could not be looked up` };
      byName.set(e.component, entries[i]!);
    }
  }
}

function relativeDockerfile(c: BuiltComponent): string {
  return c.spec.build?.dockerfile ?? c.build.dockerfilePath;
}

export function describeEntry(e: PlanEntry): string {
  switch (e.state) {
    case 'up-to-date':
      return e.kind === 'prebuilt' ? `prebuilt: ${e.image}` : `up to date: ${e.image}`;
    case 'needs-tag':
      return `up to date: ${e.image}; tag(s) to move: ${e.missingTags.join(', ')}`;
    case 'needs-push':
      return `built here, not pushed yet: ${e.repository}:${e.contentTag}`;
    case 'needs-build':
      return `needs a build: ${e.reason}`;
    case 'blocked':
      return `blocked: ${e.reason}`;
    case 'unknown':
      return `lookup failed: ${e.error.message}`;
  }
}

/** The documented `plan --json` shape. */
export function planJson(plan: Plan): { type: 'plan'; version: number; push: string | null; tags: string[]; components: PlanEntry[] } {
  return { type: 'plan', version: PLAN_FORMAT_VERSION, push: plan.push ?? null, tags: plan.tags, components: plan.entries };
}
