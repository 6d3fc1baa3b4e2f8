import { join, relative } from 'node:path';
import type { EventListener } from '../events.js';
import { renderComponentSpec } from '../kfp/component-spec.js';
import { buildPipelineDocuments, renderPipelineYaml } from '../kfp/pipeline-spec.js';
import type { ComponentResult } from '../plan/build-run.js';
import type { Pipeline } from '../project/pipeline.js';
import type { Project } from '../project/project.js';
import { writeFileAtomic } from './atomic-write.js';

export interface RunOutputs {
  project: Project;
  pipeline?: Pipeline;
  results: ComponentResult[];
  push?: string;
  /** @default `<root>/dist` */
  outDir?: string;
  startedAt: string;
  onEvent: EventListener;
}

/**
 * Write what a build run produced, each file atomically: a component spec per pinned image (a failed
 * component keeps the spec of its last good build), the pipeline spec when every step's image is
 * pushed, and build.json. Returns the paths written, relative to the project root.
 */
export function writeRunOutputs(o: RunOutputs): string[] {
  const outDir = o.outDir ?? join(o.project.root, 'dist');
  const written: string[] = [];
  const write = (path: string, content: string) => {
    writeFileAtomic(path, content);
    const rel = relative(o.project.root, path);
    written.push(rel);
    o.onEvent({ type: 'wrote', path: rel });
  };
  const byName = new Map(o.project.components.map((c) => [c.name, c]));
  for (const r of o.results) {
    const c = byName.get(r.component)!;
    if (!r.error && r.image) write(join(outDir, 'components', c.name, 'component.yaml'), renderComponentSpec(c.spec, r.image, c.file));
  }
  if (o.pipeline && o.push) {
    const images = new Map(o.results.filter((r) => r.pinnedBy === 'registry-digest' && r.image).map((r) => [r.component, r.image!]));
    const missing = [...new Set(Object.values(o.pipeline.spec.steps).map((s) => s.component))].filter((n) => !images.has(n));
    if (missing.length === 0) {
      const docs = buildPipelineDocuments(o.pipeline, o.project.components, images);
      write(join(outDir, `${o.pipeline.spec.name}.yaml`), renderPipelineYaml(o.pipeline, docs));
    } else {
      o.onEvent({
        type: 'warning',
        message: `pipeline spec not written: no pushed image for the current inputs of ${missing.join(', ')} (run helmet-build all --push ${o.push})`,
      });
    }
  }
  const report = {
    version: 1,
    startedAt: o.startedAt,
    finishedAt: new Date().toISOString(),
    push: o.push ?? null,
    ok: o.results.every((r) => !r.error),
    components: Object.fromEntries(o.results.map((r) => [r.component, r])),
  };
  write(join(outDir, 'build.json'), `${JSON.stringify(report, null, 2)}\n`);
  return written;
}
