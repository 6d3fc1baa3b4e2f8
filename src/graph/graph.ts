/**
 * The one graph walk of the project: components start `from` others, pipeline steps run `after`
 * others, and jobs wait for jobs. Nodes are names or objects; edges point from a node to what it depends on.
 */

/** Nodes in dependency order (dependencies first; ties keep the input order), or the first cycle found. */
export function topologicalOrder<N>(
  names: readonly N[],
  dependencies: (name: N) => readonly N[],
): { order: N[]; cycle?: undefined } | { order?: undefined; cycle: N[] } {
  const order: N[] = [];
  const state = new Map<N, 'visiting' | 'done'>();
  const stack: N[] = [];
  let cycle: N[] | undefined;
  const visit = (name: N): void => {
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
