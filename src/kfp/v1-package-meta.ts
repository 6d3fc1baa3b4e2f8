/**
 * What is known of a pipeline's KFP v1 package without rendering it: whether v1 can express the
 * pipeline, and the compile time a package records (kept when nothing else changed, so a re-run
 * leaves it byte-identical). Apart from the renderer, which a run loads only when it renders.
 */
import { v2OnlyPlaceholders } from '../project/kfp-v1.js';
import type { Pipeline } from '../project/model.js';

/** Why the pipeline has no v1 package, if it has none: the placeholders of its steps only KFP v2's launcher fills. */
export function v1PackageBlockers(pipeline: Pipeline): string[] {
  const components = new Map(pipeline.steps.map((s) => [s.component.name, s.component]));
  return [...components.values()].flatMap((c) => v2OnlyPlaceholders(c.spec).map((path) => `${c.file}: ${path}`));
}

/** Python's `datetime.now().isoformat()` of a time (local time, microseconds only when not zero). */
export function compileTime(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const base = `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
  return date.getMilliseconds() ? `${base}.${p(date.getMilliseconds() * 1000, 6)}` : base;
}

/** The compile time a package records, if it is one. */
export function compiledAtOf(text: string): string | undefined {
  return /pipelines\.kubeflow\.org\/pipeline_compilation_time: '([^']*)'/.exec(text)?.[1];
}
