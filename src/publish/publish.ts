/**
 * The publish phase, run only when every selected component succeeded: with a signing key, every
 * built image the run pins is signed; then user tags (`--tag`) are moved to the new images — by
 * registry manifest copy, nothing is pushed again — and the pipeline spec and its KFP v1 package are
 * written. With any failure (a signature included) nothing more is published: no user tag moves and
 * both stay as they were, so a release tag never names a half-updated set of images.
 */

import { relative } from 'node:path';
import { DependencyFailedError, errorRecord, InterruptedError } from '../errors.js';
import type { EventListener } from '../events.js';
import type { Built } from '../execute/build-job.js';
import { DagExecutor, type Job, type JobReport } from '../jobs/dag.js';
import { v1PackageBlockers } from '../kfp/v1-package-meta.js';
import { allSucceeded, type ComponentResult, failedAfter, type SucceededResult } from '../model/component-result.js';
import type { BuiltPin } from '../model/pin.js';
import type { PlanEntry } from '../model/plan-entry.js';
import type { RunRecords } from '../output/records.js';
import type { Plan } from '../plan/plan.js';
import type { PlannedBuild } from '../plan/planned-builds.js';
import type { BuildFacts } from '../plan/run-settings.js';
import { valueReadFileInputs } from '../project/input-readings.js';
import type { Pipeline, Project } from '../project/model.js';

export interface PublishOptions {
  records?: RunRecords;
  /** What each build of the run made (its builder, engine version and times go into its provenance). */
  builds?: Map<string, Built>;
  signal?: AbortSignal;
}

/** Move user tags, then write the pipeline spec. Returns the results with the tags moved, or with the tagging failure. */
export async function publish(
  project: Project,
  plan: Plan,
  results: ComponentResult[],
  options: PublishOptions,
  onEvent: EventListener,
): Promise<ComponentResult[]> {
  if (!allSucceeded(results)) return results;
  const { store, tags: userTags } = plan.settings;
  const entries = new Map(plan.entries.map((e) => [e.component, e]));
  const signJobs = signatureJobs(project, plan, results, options.builds);
  const signs = [...signJobs.values()];
  const tagJobs = new Map<string, Job<void>>();
  for (const result of results) {
    const entry = entries.get(result.component);
    // A built component's image is pinned by digest or image ID, never by a bare tag.
    if (entry?.kind !== 'built' || userTags.length === 0 || result.pinnedBy === 'tag') continue;
    const job = tagJob(plan, entry, result, signs);
    if (job) tagJobs.set(result.component, job);
  }
  const jobs = [...signs, ...tagJobs.values()];
  const pipeline = project.pipeline;
  if (pipeline && store.kind === 'registry') {
    const images = pushedImages(plan, results);
    const missing = [...new Set(pipeline.steps.map((s) => s.component.name))].filter((n) => !images.has(n));
    if (missing.length) {
      onEvent({
        type: 'warning',
        message: `pipeline spec not written: no pushed image for the current inputs of ${missing.join(', ')}`,
        remedy: { kind: 'build-first', components: missing, push: store.push },
      });
    } else if (options.records) jobs.push(pipelineJob(pipeline, images, options.records, [...signs, ...tagJobs.values()], onEvent));
  }
  const reports = await new DagExecutor({ publish: 4 }, onEvent, options.signal).run(jobs);
  const unsigned = signs.filter((j) => reports.of(j).outcome !== 'succeeded').map((j) => j.subject);
  return results.map((result): ComponentResult => {
    const job = signJobs.get(result.component);
    const signed = job ? reports.of(job) : undefined;
    if (signed && signed.outcome !== 'succeeded') return failedAfter(result, outcomeError(signed));
    const tagged = tagJobs.get(result.component);
    const report = tagged ? reports.of(tagged) : undefined;
    if (report && report.outcome === 'skipped' && unsigned.length) {
      return failedAfter(result, errorRecord(new DependencyFailedError(`user tags not moved: the signature of ${unsigned.join(', ')} failed`)));
    }
    if (report && report.outcome !== 'succeeded') return failedAfter(result, outcomeError(report));
    return entries.get(result.component)?.kind === 'built' ? { ...result, tags: [...result.tags, ...userTags] } : result;
  });
}

function outcomeError(report: Exclude<JobReport<void>, { outcome: 'succeeded' }>) {
  return errorRecord(report.outcome === 'failed' ? report.error : new InterruptedError(report.summary));
}

/** With a signing key: a job per built image pinned by registry digest, signing it, and attesting the provenance of one built in this run. */
function signatureJobs(project: Project, plan: Plan, results: SucceededResult[], builds?: Map<string, Built>): Map<string, Job<void>> {
  const { store, signer } = plan.settings;
  const jobs = new Map<string, Job<void>>();
  if (!signer || store.kind !== 'registry') return jobs;
  for (const result of results) {
    const planned = plan.builds.get(result.component);
    if (!planned || result.pinnedBy !== 'registry-digest') continue;
    const repo = store.location(planned.component.build.image);
    const builtNow = result.action === 'pushed' && result.durations.buildMs !== undefined;
    jobs.set(result.component, {
      id: `sign:${result.component}`,
      kind: 'publish',
      subject: result.component,
      title: `signing ${result.image}`,
      needs: [],
      run: async () => {
        const signed = await signer.sign(repo, result.digest);
        const attested = builtNow ? await signer.attest(repo, buildFacts(project, planned, result, builds?.get(result.component))) : undefined;
        const said = [signed === 'signed' ? 'signed' : 'signed before by this key', ...(attested === 'attested' ? ['provenance attested'] : [])];
        return { result: undefined, summary: `${said.join(', ')}: ${result.image}` };
      },
    });
  }
  return jobs;
}

/** What the provenance of a built image says: its inputs as the plan hashed them, and what it was built on. */
function buildFacts(project: Project, planned: PlannedBuild, result: SucceededResult & { digest: string }, built: Built | undefined): BuildFacts {
  const { component, inputs, platforms } = planned;
  const run = built && {
    builder: built.builder,
    ...(built.engineVersion ? { engineVersion: built.engineVersion } : {}),
    startedOn: built.startedOn,
    finishedOn: built.finishedOn,
  };
  return {
    ...(run ? { run } : {}),
    digest: result.digest,
    component: component.name,
    dockerfile: relative(project.root, component.build.dockerfilePath),
    context: relative(project.root, component.build.contextDir) || '.',
    inputs,
    platforms,
    ...('baseImage' in result && result.baseImage ? { baseImage: result.baseImage } : {}),
  };
}

/** The user tags a built image lacks, moved to it once every signature is made; undefined when it has them all. */
function tagJob(plan: Plan, entry: Extract<PlanEntry, { kind: 'built' }>, pin: BuiltPin, signs: Job<void>[]): Job<void> | undefined {
  const { store, tags: userTags } = plan.settings;
  const tags = tagsToMove(entry, userTags);
  if (tags.length === 0) return undefined;
  const image = plan.builds.get(entry.component)?.component.build.image ?? entry.repository;
  return {
    id: `tag:${entry.component}`,
    kind: 'publish',
    subject: entry.component,
    title: `tagging ${tags.join(', ')}`,
    needs: signs,
    run: async () => {
      for (const tag of tags) await store.addTag(image, pin, entry.contentTag, tag);
      return { result: undefined, summary: `tagged ${tags.map((t) => `${entry.repository}:${t}`).join(', ')}` };
    },
  };
}

/** Each component's image pinned by registry digest: what the plan found, then what this run pushed. */
function pushedImages(plan: Plan, results: SucceededResult[]): Map<string, string> {
  const images = new Map<string, string>();
  for (const e of plan.entries) if ((e.state === 'up-to-date' || e.state === 'needs-tag') && e.pinnedBy === 'registry-digest') images.set(e.component, e.image);
  for (const r of results) if (r.pinnedBy === 'registry-digest') images.set(r.component, r.image);
  return images;
}

/** The pipeline spec, then the KFP v1 package of the same pipeline (for KFP 1.x clusters) when v1 can express it. */
function pipelineJob(pipeline: Pipeline, images: Map<string, string>, records: RunRecords, needs: Job<void>[], onEvent: EventListener): Job<void> {
  return {
    id: `pipeline:${pipeline.name}`,
    kind: 'publish',
    subject: pipeline.name,
    title: `writing the pipeline spec ${pipeline.name}`,
    needs,
    run: async () => {
      warnValueReadFileInputs(pipeline, onEvent);
      const pins = Object.fromEntries(images);
      // The renderers load only when there is something to render: a no-op run finds its specs rendered.
      await records.writePipelineSpec(pipeline.name, [pipeline, pins], async () => {
        const { buildPipelineDocuments, renderPipelineYaml } = await import('../kfp/pipeline-spec.js');
        return renderPipelineYaml(pipeline, buildPipelineDocuments(pipeline, images));
      });
      const blockers = v1PackageBlockers(pipeline);
      if (blockers.length) {
        onEvent({ type: 'warning', message: `KFP v1 package not written: only KFP v2 fills ${blockers.join(', ')}` });
        return { result: undefined, summary: `wrote the pipeline spec of ${pipeline.name}` };
      }
      // Each step's published component file, as a v1 user loads it.
      const files = new Map(
        await Promise.all(
          pipeline.steps.map(async (s) => [s.component.name, await records.publishedComponent(s.component, images.get(s.component.name)!)] as const),
        ),
      );
      await records.writePipelinePackage(pipeline.name, [pipeline, Object.fromEntries(files)], async (compiledAt) => {
        const { buildArgoWorkflow, renderArgoWorkflow } = await import('../kfp/argo-workflow.js');
        return renderArgoWorkflow(buildArgoWorkflow(pipeline, files, compiledAt));
      });
      return { result: undefined, summary: `wrote the pipeline spec of ${pipeline.name} and its KFP v1 package` };
    },
  };
}

/**
 * Inputs of a file type that a component reads as values: KFP 1.x passes values (the v1 package),
 * kfp 2.x would make them files and refuse a string, so the v2 spec types them String. Said once per component.
 */
function warnValueReadFileInputs(pipeline: Pipeline, onEvent: EventListener): void {
  const components = [...new Map(pipeline.steps.map((s) => [s.component.name, s.component])).values()];
  for (const c of components) {
    const names = valueReadFileInputs(c.spec);
    if (!names.length) continue;
    const list = names.map((n) => `"${n}"`).join(', ');
    onEvent({
      type: 'warning',
      subject: c.name,
      message: `${c.file}: input${names.length > 1 ? 's' : ''} ${list} of a file type ${names.length > 1 ? 'are' : 'is'} read with inputValue: a value in the KFP v1 package, as kfp 1.x reads it; the v2 spec types ${names.length > 1 ? 'them' : 'it'} String, since kfp 2.x would make ${names.length > 1 ? 'them files' : 'it a file'} and refuse a value`,
    });
  }
}

/** A reused image may carry some tags already; a new one carries none. */
function tagsToMove(entry: Extract<PlanEntry, { kind: 'built' }>, tags: string[]): string[] {
  if (entry.state === 'needs-tag') return entry.missingTags;
  return entry.state === 'up-to-date' ? [] : tags;
}
