/**
 * The layers of src/ point one way. Every import (static, re-export, type-only and dynamic) is read
 * from the sources; the test fails on a cycle between files, on a cycle between folders, and on an
 * import one folder is not allowed to make (the table below is the architecture, in one place).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');

/** What each folder (or file at the top of src/) may import, besides itself. */
const ALLOWED: Record<string, string[]> = {
  'errors.ts': [],
  'version.ts': [],
  'node-modules.ts': [],
  fs: ['errors.ts'],
  retry: ['errors.ts'],
  graph: [],
  text: [],
  tls: ['node-modules.ts'],
  http: ['node-modules.ts', 'tls'],
  names: [],
  dockerfile: ['names'],
  model: ['errors.ts'],
  'events.ts': ['errors.ts', 'model'],
  jobs: ['errors.ts', 'events.ts', 'graph'],
  context: ['fs', 'model'],
  project: ['dockerfile', 'errors.ts', 'fs', 'graph', 'model', 'names', 'node-modules.ts'],
  kfp: ['project'],
  registry: ['errors.ts', 'fs', 'http', 'names', 'retry', 'tls'],
  sign: ['context', 'errors.ts', 'registry'],
  engine: ['dockerfile', 'errors.ts', 'model', 'names', 'node-modules.ts', 'registry', 'retry', 'text', 'tls'],
  images: ['engine', 'errors.ts', 'model', 'names', 'registry'],
  plan: ['context', 'engine', 'errors.ts', 'events.ts', 'images', 'jobs', 'model', 'project', 'registry', 'sign', 'text'],
  execute: ['context', 'dockerfile', 'engine', 'errors.ts', 'events.ts', 'images', 'jobs', 'model', 'names', 'plan', 'registry', 'retry', 'text'],
  output: ['context', 'errors.ts', 'events.ts', 'fs', 'kfp', 'model', 'project'],
  publish: ['errors.ts', 'events.ts', 'execute', 'jobs', 'kfp', 'model', 'output', 'plan', 'project'],
  runner: ['engine', 'errors.ts', 'graph', 'jobs', 'project', 'registry', 'text'],
  flow: [
    'engine',
    'errors.ts',
    'events.ts',
    'execute',
    'images',
    'jobs',
    'model',
    'output',
    'plan',
    'project',
    'publish',
    'registry',
    'runner',
    'sign',
    'version.ts',
  ],
  doctor: ['engine', 'errors.ts', 'project', 'registry'],
  verify: ['errors.ts', 'plan', 'project', 'registry', 'sign'],
  scaffold: ['dockerfile', 'errors.ts', 'fs', 'project'],
  submit: ['errors.ts', 'events.ts', 'http', 'model', 'project', 'tls'],
  cli: [
    'doctor',
    'engine',
    'errors.ts',
    'events.ts',
    'flow',
    'model',
    'names',
    'plan',
    'project',
    'registry',
    'scaffold',
    'sign',
    'submit',
    'verify',
    'version.ts',
  ],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/** Relative imports of a file, as files under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?\bfrom\s+['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts'));
}

/** The unit a file belongs to: its top folder under src/, or the file itself at the top. */
function unitOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes('/') ? rel.split('/')[0]! : rel;
}

/** Strongly connected components with more than one member (or a self-loop): the cycles. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const members: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        members.push(w);
      } while (w !== v);
      if (members.length > 1 || graph.get(v)?.has(v)) found.push(members.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

const files = sourceFiles(SRC);
const fileGraph = new Map(files.map((f) => [relative(SRC, f), new Set(importsOf(f).map((i) => relative(SRC, i)))]));
const unitGraph = new Map<string, Set<string>>();
for (const [from, tos] of fileGraph) {
  const unit = unitOf(join(SRC, from));
  const set = unitGraph.get(unit) ?? new Set<string>();
  for (const to of tos) if (unitOf(join(SRC, to)) !== unit) set.add(unitOf(join(SRC, to)));
  unitGraph.set(unit, set);
}

describe('src/ import layers', () => {
  it('reads the imports it checks (a parser that sees nothing would pass everything)', () => {
    expect(fileGraph.get('cli/main.ts')?.size).toBeGreaterThan(2);
    expect([...(fileGraph.get('engine/docker-engine.ts') ?? [])]).toContain('errors.ts');
    // Dynamic imports count too.
    expect([...(fileGraph.get('cli/main.ts') ?? [])]).toContain('cli/commands/build.ts');
  });

  it('imports only files that exist', () => {
    const missing = [...fileGraph].flatMap(([from, tos]) => [...tos].filter((t) => !fileGraph.has(t)).map((t) => `${from} -> ${t}`));
    expect(missing).toEqual([]);
  });

  it('has no cycle between files', () => {
    expect(cycles(fileGraph)).toEqual([]);
  });

  it('has no cycle between folders', () => {
    expect(cycles(unitGraph)).toEqual([]);
  });

  it('every folder imports only the layers the table allows', () => {
    const units = [...unitGraph.keys()].sort();
    expect(units.filter((u) => !(u in ALLOWED))).toEqual([]);
    const forbidden = [...unitGraph].flatMap(([unit, deps]) => [...deps].filter((d) => !(ALLOWED[unit] ?? []).includes(d)).map((d) => `${unit} -> ${d}`));
    expect(forbidden).toEqual([]);
  });

  it('the table says no more than the code does (every allowed import is made)', () => {
    const unused = Object.entries(ALLOWED).flatMap(([unit, deps]) => deps.filter((d) => !unitGraph.get(unit)?.has(d)).map((d) => `${unit} -> ${d}`));
    expect(unused).toEqual([]);
  });
});
