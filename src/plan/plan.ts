/**
 * The plan phase: compute every component's input digest (chained through `from:` on the base's
 * input digest, so the whole graph is known before anything is built), then ask the registry — or,
 * without --push, the engine — what exists. The result is data: per component, one state that the
 * execute and publish phases act on, and that `plan --json` prints.
 */

import { relative } from 'node:path';
import { describeInputChanges, type InputRecord, inputTag } from '../context/input-digest.js';
import { type ErrorRecord, errorMessage, errorRecord, InterruptedError } from '../errors.js';
import type { EventListener } from '../events.js';
import type { ImageStore } from '../images/image-store.js';
import { DagExecutor, type Job } from '../jobs/dag.js';
import { pinOf } from '../model/pin.js';
import type { BuiltEntry, BuiltIdentity, BuiltState, PlanEntry, PrebuiltEntry, PrebuiltIdentity, PrebuiltState } from '../model/plan-entry.js';
import { PLAN_FORMAT_VERSION } from '../model/plan-entry.js';
import type { BuiltComponent, Component, PrebuiltComponent, Project } from '../project/model.js';
import { withBases } from '../project/project-root.js';
import { parseImageRef, splitReference } from '../registry/image-ref.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { digestBuilds, type PlannedBuild } from './planned-builds.js';
import type { RunSettings } from './run-settings.js';

export interface Plan {
  settings: RunSettings;
  /** Bases first. */
  entries: PlanEntry[];
  builds: Map<string, PlannedBuild>;
}

export interface PlanScope {
  /** The selected components; their bases are added. */
  selection: Component[];
  /** Look up the pipeline's other components too, so that its spec can be written. */
  includePipeline: boolean;
  /** The inputs of each component's last recorded build, for "what changed". */
  previousInputs?: (component: string) => InputRecord | undefined;
}

export interface PlanDeps {
  /** Resolves prebuilt images' tags to digests. */
  registry: RegistryApi;
  onEvent: EventListener;
}

export async function resolvePlan(project: Project, settings: RunSettings, scope: PlanScope, deps: PlanDeps): Promise<Plan> {
  // The selection includes the components it starts from: their images are its inputs.
  const selected = new Set([...scope.selection, ...withBases(scope.selection)].map((c) => c.name));
  const wanted = new Set(selected);
  if (scope.includePipeline && project.pipeline) {
    const used = project.pipeline.steps.map((s) => s.component);
    for (const c of [...used, ...withBases(used)]) wanted.add(c.name);
  }
  const components = project.components.filter((c) => wanted.has(c.name));
  // Each component's lookup is sent as soon as its digest is known, while the next ones are hashed.
  const early = new Map<string, Promise<BuiltState>>();
  const builds = await digestBuilds(project, components, settings, deps.onEvent, (c, planned) => {
    const looked = lookupBuilt(c, builtIdentity(c, planned, selected.has(c.name), settings.store), planned, settings, scope);
    // Handled where the lookup's job awaits it; this keeps an early failure from counting as unhandled.
    looked.catch(() => undefined);
    early.set(c.name, looked);
  });

  const lookups = components.map((c) => lookupJob(c, selected.has(c.name), builds, early, settings, deps));
  const reports = await new DagExecutor({}, deps.onEvent, settings.signal).run(lookups);
  const entries = lookups.map((job, i): PlanEntry => {
    const report = reports.of(job);
    if (report.outcome === 'succeeded') return report.result;
    const error: ErrorRecord = errorRecord(report.outcome === 'failed' ? report.error : new InterruptedError(report.summary));
    const c = components[i]!;
    const identity =
      c.kind === 'built' ? builtIdentity(c, builds.get(c.name)!, selected.has(c.name), settings.store) : prebuiltIdentity(c, selected.has(c.name));
    return { ...identity, state: 'unknown', error };
  });
  const plan: Plan = { settings, entries: blockDependants(entries), builds };
  deps.onEvent({ type: 'plan', ...(settings.store.kind === 'registry' ? { push: settings.store.push } : {}), entries: plan.entries });
  return plan;
}

/** The lookup of one component: a built one awaits the lookup its digest sent; a prebuilt one resolves its tag, or follows the image built here that it names. */
function lookupJob(
  c: Component,
  isSelected: boolean,
  builds: Map<string, PlannedBuild>,
  early: Map<string, Promise<BuiltState>>,
  settings: RunSettings,
  deps: PlanDeps,
): Job<PlanEntry> {
  if (c.kind === 'built') {
    const identity = builtIdentity(c, builds.get(c.name)!, isSelected, settings.store);
    return {
      id: `lookup:${c.name}`,
      kind: 'lookup',
      subject: c.name,
      title: `looking up ${identity.repository}:${identity.contentTag}`,
      needs: [],
      run: async () => {
        const entry: BuiltEntry = { ...identity, ...(await early.get(c.name)!) };
        return { result: entry, summary: describeEntry(entry) };
      },
    };
  }
  const identity = prebuiltIdentity(c, isSelected);
  return {
    id: `lookup:${c.name}`,
    kind: 'lookup',
    subject: c.name,
    title: c.imageOf ? `pinning ${c.image} to the image of ${c.imageOf.name}` : `resolving ${c.image}`,
    needs: [],
    run: async () => {
      const state = c.imageOf ? await followBuilt(c.imageOf.name, early.get(c.imageOf.name)!) : await lookupPrebuilt(c, deps);
      const entry: PrebuiltEntry = { ...identity, ...state };
      return { result: entry, summary: describeEntry(entry) };
    },
  };
}

function builtIdentity(c: BuiltComponent, planned: PlannedBuild, selected: boolean, store: ImageStore): BuiltIdentity {
  const inputDigest = planned.inputs.inputDigest;
  return {
    component: c.name,
    kind: 'built',
    selected,
    ...(c.base ? { base: c.base.name } : {}),
    inputDigest,
    repository: store.repository(c.build.image),
    contentTag: inputTag(inputDigest),
    ...(planned.platforms.length ? { platforms: planned.platforms } : {}),
  };
}

function prebuiltIdentity(c: PrebuiltComponent, selected: boolean): PrebuiltIdentity {
  const ref = parseImageRef(c.image);
  return { component: c.name, kind: 'prebuilt', selected, repository: `${ref.registry}/${ref.repository}`, ...(c.imageOf ? { imageOf: c.imageOf.name } : {}) };
}

/** A prebuilt component that names an image built here takes that image's pin, or waits for its build. */
async function followBuilt(name: string, looked: Promise<BuiltState>): Promise<PrebuiltState> {
  let state: BuiltState;
  try {
    state = await looked;
  } catch {
    return { state: 'blocked', by: [name], reason: `the lookup of ${name}, whose image it names, failed` };
  }
  switch (state.state) {
    case 'up-to-date':
    case 'needs-tag':
      return { state: 'up-to-date', ...pinOf(state) };
    case 'needs-build':
    case 'needs-push':
      return { state: 'pinned-after-build' };
    case 'blocked':
    case 'unknown':
      return { state: 'blocked', by: [name], reason: `${name}, whose image it names, cannot be made` };
  }
}

async function lookupBuilt(c: BuiltComponent, identity: BuiltIdentity, planned: PlannedBuild, settings: RunSettings, scope: PlanScope): Promise<BuiltState> {
  const { store } = settings;
  const { repository, contentTag, inputDigest } = identity;
  if (identity.selected && settings.noCache) return { state: 'needs-build', reason: 'a build is forced by --no-cache' };
  const image = c.build.image;
  const pin = await store.lookup(image, contentTag, inputDigest);
  if (pin) {
    const missingTags = identity.selected && settings.tags.length ? await store.missingTags(image, pin, settings.tags) : [];
    return missingTags.length ? { state: 'needs-tag', missingTags, ...pin } : { state: 'up-to-date', ...pin };
  }
  const imageId = await store.unpublished(image, contentTag, inputDigest);
  if (imageId) return { state: 'needs-push', imageId };
  const before = scope.previousInputs?.(c.name);
  const changes =
    before && before.inputDigest !== inputDigest ? describeInputChanges(before, planned.inputs, { dockerfile: relativeDockerfile(c), base: c.base?.name }) : [];
  const missing = `${repository}:${contentTag} is not in ${store.where}`;
  return {
    state: 'needs-build',
    reason: changes.length ? `${changes.join('; ')} (${missing})` : `no image for its current inputs (${missing})`,
    ...(changes.length ? { changes } : {}),
  };
}

/** A component without build: keeps its image, pinned to the registry's digest when it can be resolved. */
async function lookupPrebuilt(c: PrebuiltComponent, deps: PlanDeps): Promise<PrebuiltState> {
  const ref = parseImageRef(c.image);
  if (ref.digest) return { state: 'up-to-date', image: c.image, digest: ref.digest, pinnedBy: 'registry-digest' };
  try {
    const digest = await deps.registry.manifestDigest(ref.registry, ref.repository, ref.tag ?? 'latest');
    if (digest) return { state: 'up-to-date', image: `${splitReference(c.image).name}@${digest}`, digest, pinnedBy: 'registry-digest' };
    deps.onEvent({ type: 'warning', subject: c.name, message: `cannot pin ${c.image} to a digest: the registry has no such tag; using the tag` });
  } catch (e) {
    deps.onEvent({ type: 'warning', subject: c.name, message: `cannot pin ${c.image} to a digest: ${errorMessage(e)}; using the tag` });
  }
  return { state: 'up-to-date', image: c.image, pinnedBy: 'tag' };
}

/** A component that needs a build while a base cannot provide an image is blocked by that base. */
function blockDependants(entries: PlanEntry[]): PlanEntry[] {
  const byName = new Map<string, PlanEntry>();
  return entries.map((e) => {
    const base = e.kind === 'built' && e.base ? byName.get(e.base) : undefined;
    const entry: PlanEntry =
      e.kind === 'built' && e.state === 'needs-build' && base && (base.state === 'unknown' || base.state === 'blocked')
        ? { ...identityOf(e), state: 'blocked', by: [base.component], reason: `${base.component}, the component it starts from, could not be looked up` }
        : e;
    byName.set(entry.component, entry);
    return entry;
  });
}

function identityOf(e: BuiltEntry): BuiltIdentity {
  return {
    component: e.component,
    kind: 'built',
    selected: e.selected,
    ...(e.base ? { base: e.base } : {}),
    inputDigest: e.inputDigest,
    repository: e.repository,
    contentTag: e.contentTag,
  };
}

function relativeDockerfile(c: BuiltComponent): string {
  return c.spec.build?.dockerfile ?? c.build.dockerfilePath;
}

function describeEntry(e: PlanEntry): string {
  switch (e.state) {
    case 'up-to-date':
      if (e.kind === 'built') return `up to date: ${e.image}`;
      return e.imageOf ? `the image of ${e.imageOf}: ${e.image}` : `prebuilt: ${e.image}`;
    case 'pinned-after-build':
      return `the image of ${e.imageOf}, pinned once it is built`;
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

/** Where a component's image comes from, as `plan --json` adds it to each entry. */
export interface ImageSource {
  /** `build-section` (component.yaml), `project-file` (helmet-build.yaml), `dockerfile-beside`, `images` (an images: entry), `prebuilt`, `image-built-here` (prebuilt, naming an image built here: `imageOf`). */
  source: string;
  /** The Dockerfile, relative to the root. */
  dockerfile?: string;
  /** FROM lines that name the base's image, built on the image this run makes for it. */
  baseFromLines?: number[];
}

/** The documented `plan --json` shape (format version 1; `source`, `dockerfile` and `baseFromLines` added to version 1's entries). */
export function planJson(
  plan: Plan,
  root: string,
): { type: 'plan'; version: number; push: string | null; tags: string[]; components: (PlanEntry & ImageSource)[] } {
  const { store, tags } = plan.settings;
  const components = plan.entries.map((e): PlanEntry & ImageSource => {
    const c = plan.builds.get(e.component)?.component;
    if (!c) return { ...e, source: e.kind === 'prebuilt' && e.imageOf ? 'image-built-here' : 'prebuilt' };
    return {
      ...e,
      source: c.imageOnly ? 'images' : c.build.origin,
      dockerfile: relative(root, c.build.dockerfilePath),
      ...(c.baseFromLines?.length ? { baseFromLines: c.baseFromLines } : {}),
    };
  });
  return { type: 'plan', version: PLAN_FORMAT_VERSION, push: store.kind === 'registry' ? store.push : null, tags, components };
}
