/**
 * The publish phase, run only when every selected component succeeded: user tags (`--tag`) are
 * moved to the new images — by registry manifest copy, nothing is pushed again — and then the
 * pipeline spec is written. With any failure nothing is published: no user tag moves and the
 * pipeline spec stays as it was, so a release tag never names a half-updated set of images.
 */
import type { EngineClient } from '../engine/engine-client.js';
import { errorRecord } from '../errors.js';
import type { EventListener } from '../events.js';
import type { ComponentResult } from '../execute/component-result.js';
import { DagExecutor, type Job } from '../execute/dag.js';
import { buildPipelineDocuments, renderPipelineYaml } from '../kfp/pipeline-spec.js';
import type { RunRecords } from '../output/records.js';
import type { Plan } from '../plan/plan.js';
import type { Project } from '../project/model.js';
import { imageRepository } from '../registry/image-ref.js';
import type { RegistryClient } from '../registry/registry-client.js';

export interface PublishDeps {
  engine: EngineClient;
  registry: RegistryClient;
  onEvent: EventListener;
}

export interface PublishOptions {
  records?: RunRecords;
  signal?: AbortSignal;
}

/** Move user tags, then write the pipeline spec. Returns the results with the tags moved, or with the tagging failure. */
export async function publish(
  project: Project,
  plan: Plan,
  results: ComponentResult[],
  options: PublishOptions,
  deps: PublishDeps,
): Promise<ComponentResult[]> {
  if (results.some((r) => r.error)) return results;
  const entries = new Map(plan.entries.map((e) => [e.component, e]));
  const jobs: Job<void>[] = [];
  for (const result of results) {
    const entry = entries.get(result.component)!;
    if (entry.kind !== 'built' || plan.tags.length === 0) continue;
    // A reused image may carry some tags already; a new one carries none.
    const tags = entry.state === 'needs-tag' ? entry.missingTags : entry.state === 'up-to-date' ? [] : plan.tags;
    if (tags.length === 0) continue;
    jobs.push({
      id: `tag:${result.component}`,
      kind: 'publish',
      subject: result.component,
      title: `tagging ${tags.join(', ')}`,
      needs: [],
      run: async () => {
        for (const tag of tags) {
          if (plan.target) {
            const repo = imageRepository(plan.target, plan.builds.get(result.component)!.component.build.image);
            await deps.registry.copyTag(repo.registry, repo.path, entry.contentTag!, tag);
          } else {
            await deps.engine.tag(result.imageId ?? result.image!, entry.repository!, tag);
          }
        }
        return { result: undefined, summary: `tagged ${tags.map((t) => `${entry.repository}:${t}`).join(', ')}` };
      },
    });
  }

  const pipeline = project.pipeline;
  if (pipeline && plan.target) {
    const images = new Map<string, string>();
    for (const e of plan.entries) if (e.pinnedBy === 'registry-digest' && e.image) images.set(e.component, e.image);
    for (const r of results) if (r.pinnedBy === 'registry-digest' && r.image) images.set(r.component, r.image);
    const missing = [...new Set(pipeline.steps.map((s) => s.component.name))].filter((n) => !images.has(n));
    if (missing.length) {
      deps.onEvent({
        type: 'warning',
        message: `pipeline spec not written: no pushed image for the current inputs of ${missing.join(', ')} (run helmet-build all --push ${plan.push})`,
      });
    } else if (options.records) {
      const records = options.records;
      jobs.push({
        id: `pipeline:${pipeline.name}`,
        kind: 'publish',
        subject: pipeline.name,
        title: `writing the pipeline spec ${pipeline.name}`,
        needs: jobs.map((j) => j.id),
        run: async () => {
          records.writePipelineSpec(pipeline.name, renderPipelineYaml(pipeline, buildPipelineDocuments(pipeline, images)));
          return { result: undefined, summary: `wrote the pipeline spec of ${pipeline.name}` };
        },
      });
    }
  }
  const reports = await new DagExecutor({ publish: 4 }, deps.onEvent, options.signal).run(jobs);
  return results.map((result) => {
    const report = reports.get(`tag:${result.component}`);
    if (report && report.outcome !== 'succeeded') {
      return {
        ...result,
        action: 'failed',
        error: report.outcome === 'failed' ? errorRecord(report.error) : { code: 'INTERRUPTED', exitCode: 130, message: report.reason },
      };
    }
    return entries.get(result.component)!.kind === 'built' ? { ...result, tags: [...result.tags, ...plan.tags] } : result;
  });
}
