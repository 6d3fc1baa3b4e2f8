import type { Pipeline } from '../project/pipeline.js';
import type { Component } from '../project/project.js';

/**
 * The components to process for a selection: the selection plus, transitively, the components
 * they start `from` (their digests are inputs of the dependants). Ordered bases first.
 */
export function withBaseComponents(all: Component[], selected: Component[]): Component[] {
  const byName = new Map(all.map((c) => [c.name, c]));
  const ordered: Component[] = [];
  const seen = new Set<string>();
  const visit = (c: Component) => {
    if (seen.has(c.name)) return;
    seen.add(c.name);
    const from = c.build?.from ? byName.get(c.build.from) : undefined;
    if (from) visit(from);
    ordered.push(c);
  };
  selected.forEach(visit);
  return ordered;
}

/**
 * What to do with a component: build it when needed; only resolve its pushed image, failing when
 * there is none; or resolve it if possible (components outside the selection that the pipeline
 * spec needs, and every component of a dry run).
 */
export type Mode = 'build' | 'resolve' | 'resolve-if-present';

export interface WorkItem {
  component: Component;
  mode: Mode;
}

/**
 * The components a run touches, bases first, each with its mode. The selection (and the bases it
 * starts from) is built, or only resolved for `emit`/`plan`; with a pipeline and a push target, the
 * pipeline's other components are looked up so that its spec can be written.
 */
export function planWork(
  all: Component[],
  selected: Component[],
  options: { selectedMode: Mode; pipeline?: Pipeline; pushing: boolean },
): WorkItem[] {
  const modes = new Map<string, Mode>();
  for (const c of withBaseComponents(all, selected)) modes.set(c.name, options.selectedMode);
  const pipeline = options.pipeline;
  if (pipeline && options.pushing) {
    const used = all.filter((c) => Object.values(pipeline.spec.steps).some((s) => s.component === c.name));
    for (const c of withBaseComponents(all, used)) if (!modes.has(c.name)) modes.set(c.name, 'resolve-if-present');
  }
  return withBaseComponents(all, all.filter((c) => modes.has(c.name))).map((component) => ({ component, mode: modes.get(component.name)! }));
}
