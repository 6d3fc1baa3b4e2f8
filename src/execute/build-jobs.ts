/**
 * The execute phase of a build: from the plan, a build job per component that needs one and a push
 * job (push + verify against the registry) per image the registry lacks, on one DAG. A component
 * that starts from another waits for the job that makes its base's image. Each component's result
 * is handed to `onComponentDone` as soon as its last job succeeds, so it is recorded at once.
 */
import { createContextTar } from '../context/context-tar.js';
import type { EngineClient } from '../engine/engine-client.js';
import { ContextChangedError, DependencyFailedError, DigestMismatchError, errorRecord, InterruptedError } from '../errors.js';
import type { EventListener } from '../events.js';
import { BASE_IMAGE_LABEL, COMPONENT_LABEL, INPUT_DIGEST_LABEL, type Plan, type PlanEntry } from '../plan/plan.js';
import { type CredentialSource, engineAuth } from '../registry/credentials.js';
import { imageRepository } from '../registry/image-ref.js';
import type { RegistryClient } from '../registry/registry-client.js';
import type { ComponentResult } from './component-result.js';
import { DagExecutor, type Job, type JobLimits } from './dag.js';

export interface ExecuteDeps {
  engine: EngineClient;
  registry: RegistryClient;
  credentials: CredentialSource;
  onEvent: EventListener;
}

export interface ExecuteOptions {
  limits: JobLimits;
  noCache?: boolean;
  /** Image labels describing the source (git); asked for only when something is built. */
  sourceLabels?: () => Promise<Record<string, string>>;
  signal?: AbortSignal;
  /** Called once per selected component that succeeded, as soon as it did. */
  onComponentDone?: (result: ComponentResult) => void;
}

interface Produced {
  imageId?: string;
  digest?: string;
}

/** Run the plan's builds and pushes; returns a result per selected component (bases first). */
export async function executePlan(plan: Plan, options: ExecuteOptions, deps: ExecuteDeps): Promise<ComponentResult[]> {
  const entries = new Map(plan.entries.map((e) => [e.component, e]));
  const images = new Map<string, string>();
  for (const e of plan.entries) if (e.image) images.set(e.component, e.image);
  const results = new Map<string, ComponentResult>();
  const jobs: Job<Produced>[] = [];
  const finalJob = new Map<string, string>();
  let engineReady: Promise<void> | undefined;
  let labels: Promise<Record<string, string>> | undefined;

  for (const entry of plan.entries) {
    if (!entry.selected) continue;
    const result = initialResult(entry);
    results.set(entry.component, result);
    const done = (r: ComponentResult) => {
      options.onComponentDone?.(r);
    };
    if (entry.state === 'up-to-date' || entry.state === 'needs-tag') {
      done(result);
      continue;
    }
    if (entry.state !== 'needs-build' && entry.state !== 'needs-push') continue;
    const planned = plan.builds.get(entry.component)!;
    const baseJob = entry.base ? finalJob.get(entry.base) : undefined;
    const push = plan.target !== undefined;
    if (entry.state === 'needs-build') {
      const id = `build:${entry.component}`;
      jobs.push({
        id,
        kind: 'build',
        subject: entry.component,
        title: `building ${entry.repository}:${entry.contentTag}`,
        needs: baseJob ? [baseJob] : [],
        run: async (ctx) => {
          engineReady ??= deps.engine.ping();
          labels ??= options.sourceLabels?.() ?? Promise.resolve({});
          const [, sourceLabels] = await Promise.all([engineReady, labels]);
          const baseImage = entry.base ? images.get(entry.base) : undefined;
          const buildArgs = { ...planned.buildArgs, ...(baseImage ? { BASE_IMAGE: baseImage } : {}) };
          const tag = `${entry.repository}:${entry.contentTag}`;
          const tar = createContextTar(planned.context);
          const t0 = Date.now();
          const imageId = await deps.engine.build({
            name: entry.component,
            context: tar.stream,
            dockerfile: tar.dockerfile,
            tags: [tag],
            buildArgs,
            labels: {
              ...sourceLabels,
              [INPUT_DIGEST_LABEL]: entry.inputDigest!,
              [COMPONENT_LABEL]: entry.component,
              ...(baseImage ? { [BASE_IMAGE_LABEL]: baseImage } : {}),
            },
            noCache: options.noCache,
            platform: planned.component.build.platform,
            onLog: (line) => {
              ctx.log(line);
              if (/^Step \d+\/\d+ :/.test(line)) ctx.progress(line);
            },
            signal: options.signal,
          });
          const changed = tar.changedEntries();
          if (changed.length) {
            // The image holds other content than its content tag names: never leave that tag behind.
            await deps.engine.removeImage(tag).catch(() => undefined);
            throw new ContextChangedError(
              `files changed while the build context was sent: ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''}`,
              {
                hint: 'Re-run once nothing is writing into the component folder.',
              },
            );
          }
          Object.assign(result, { imageId, baseImage, durations: { ...result.durations, buildMs: Date.now() - t0 } });
          if (!push) {
            Object.assign(result, { action: 'built', image: imageId, pinnedBy: 'local-image-id' });
            images.set(entry.component, imageId);
            done(result);
          }
          return { result: { imageId }, summary: `built ${imageId.slice(0, 19)}` };
        },
      });
      finalJob.set(entry.component, id);
    }
    if (push) {
      const id = `push:${entry.component}`;
      const needs = entry.state === 'needs-build' ? [`build:${entry.component}`] : [];
      jobs.push({
        id,
        kind: 'push',
        subject: entry.component,
        title: `pushing ${entry.repository}:${entry.contentTag}`,
        needs,
        run: async (ctx) => {
          engineReady ??= deps.engine.ping();
          await engineReady;
          const repo = imageRepository(plan.target!, planned.component.build.image);
          const t0 = Date.now();
          const auth = engineAuth(repo.registry, await deps.credentials.get(repo.registry));
          const digest = await deps.engine.push({ repository: repo.name, tag: entry.contentTag!, auth, onProgress: (s) => ctx.progress(s) });
          const confirmed = await deps.registry.manifestDigest(repo.registry, repo.path, entry.contentTag!);
          if (confirmed !== digest) {
            throw new DigestMismatchError(
              `the engine pushed ${repo.name}:${entry.contentTag} as ${digest}, but the registry reports ${confirmed ?? 'no such tag'}`,
              {
                hint: 'Another writer may be pushing the same tag; re-run, and check the registry.',
              },
            );
          }
          const image = `${repo.name}@${digest}`;
          Object.assign(result, {
            action: 'pushed',
            digest,
            image,
            pinnedBy: 'registry-digest',
            ...(entry.state === 'needs-push' ? { imageId: entry.imageId } : {}),
            durations: { ...result.durations, pushMs: Date.now() - t0 },
          });
          images.set(entry.component, image);
          done(result);
          return { result: { digest }, summary: `pushed ${image}` };
        },
      });
      finalJob.set(entry.component, id);
    }
  }

  const reports = await new DagExecutor(options.limits, deps.onEvent, options.signal).run(jobs);
  for (const [name, result] of results) {
    const entry = entries.get(name)!;
    if (entry.state === 'unknown') {
      Object.assign(result, { action: 'failed', error: entry.error });
      continue;
    }
    if (entry.state === 'blocked') {
      Object.assign(result, { action: 'blocked', error: errorRecord(new DependencyFailedError(`not built: ${entry.reason}`)) });
      continue;
    }
    for (const id of [`build:${name}`, `push:${name}`]) {
      const report = reports.get(id);
      if (!report || report.outcome === 'succeeded') continue;
      if (report.outcome === 'failed') Object.assign(result, { action: 'failed', error: errorRecord(report.error) });
      else if (report.reason === 'interrupted' || options.signal?.aborted) {
        Object.assign(result, { action: 'failed', error: errorRecord(new InterruptedError('interrupted before it started')) });
      } else if (report.blockedBy.length && result.action !== 'failed') {
        const base = entry.base ?? name;
        Object.assign(result, { action: 'blocked', error: errorRecord(new DependencyFailedError(`not built: the component it starts from, ${base}, failed`)) });
      }
      break;
    }
  }
  return plan.entries.filter((e) => e.selected).map((e) => results.get(e.component)!);
}

function initialResult(entry: PlanEntry): ComponentResult {
  return {
    component: entry.component,
    action: 'reused',
    ...(entry.image ? { image: entry.image, pinnedBy: entry.pinnedBy } : {}),
    ...(entry.repository ? { repository: entry.repository } : {}),
    tags: entry.contentTag ? [entry.contentTag] : [],
    ...(entry.digest ? { digest: entry.digest } : {}),
    ...(entry.pinnedBy === 'local-image-id' ? { imageId: entry.image } : {}),
    ...(entry.inputDigest ? { inputDigest: entry.inputDigest } : {}),
    durations: {},
  };
}
