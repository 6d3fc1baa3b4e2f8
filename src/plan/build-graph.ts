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
