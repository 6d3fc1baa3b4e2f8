/**
 * The one graph walk of the project: components start `from` others, pipeline steps run `after`
 * others, and jobs wait for jobs. Nodes are named; edges point from a node to what it depends on.
 */

/** Node names in dependency order (dependencies first; ties keep the input order), or the first cycle found. */
export function topologicalOrder(
  names: readonly string[],
  dependencies: (name: string) => readonly string[],
): { order: string[]; cycle?: undefined } | { order?: undefined; cycle: string[] } {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  let cycle: string[] | undefined;
  const visit = (name: string): void => {
    if (cycle || state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      cycle = [...stack.slice(stack.indexOf(name)), name];
      return;
    }
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of dependencies(name)) visit(dep);
    stack.pop();
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of names) visit(name);
  return cycle ? { cycle } : { order };
}

/** `roots` and everything they depend on, transitively. */
export function withDependencies(roots: Iterable<string>, dependencies: (name: string) => readonly string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    dependencies(name).forEach(visit);
  };
  for (const r of roots) visit(r);
  return seen;
}

/** `roots` and everything that depends on them, transitively. */
export function withDependants(roots: Iterable<string>, names: readonly string[], dependencies: (name: string) => readonly string[]): Set<string> {
  const out = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const n of names) {
      if (!out.has(n) && dependencies(n).some((d) => out.has(d))) {
        out.add(n);
        grew = true;
      }
    }
  }
  return out;
}
