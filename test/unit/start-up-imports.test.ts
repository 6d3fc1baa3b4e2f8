/**
 * What a no-op run compiles: the CLI and the `all`/`build` command, and the modules they import
 * statically. The YAML parser and the schema code (zod, 750 KB of bundle) load only when a project is
 * read afresh, by a dynamic import; one static value import from that path costs every run their
 * compile time (a regression of about 25% on the no-op once went in unseen that way). Node's own
 * https, tls, readline and child_process, a few ms each, load on first use (src/node-modules.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');
const ENTRIES = ['cli/main.ts', 'cli/commands/build.ts'];
/** Packages and Node modules the no-op path must not load at start. */
const LOADED_ON_DEMAND = ['zod', 'yaml', 'node:https', 'node:tls', 'node:readline', 'node:child_process'];

/** Static imports that bring values (not `import type`, not a list of type-only names), as written. */
function staticValueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(import|export)\s+(?!type\b)([^'"`;]*?)\s*from\s+['"]([^'"]+)['"]/g)) {
    const names = m[2]!.trim();
    const braces = /^\{([^}]*)\}$/.exec(names);
    const onlyTypes = braces && braces[1]!.split(',').every((n) => n.trim() === '' || /^type\s/.test(n.trim()));
    if (!onlyTypes) specs.push(m[3]!);
  }
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) specs.push(m[1]!);
  return specs;
}

/** Every source file and package reached from `entries` by static value imports, with the chain that reached it. */
function reached(entries: string[]): Map<string, string[]> {
  const chains = new Map<string, string[]>();
  const visit = (file: string, chain: string[]) => {
    if (chains.has(file)) return;
    chains.set(file, chain);
    if (!file.startsWith('/')) return;
    for (const spec of staticValueImports(file)) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        if (existsSync(target)) visit(target, [...chain, target.slice(SRC.length + 1)]);
      } else if (spec.startsWith('node:')) {
        if (!chains.has(spec)) chains.set(spec, [...chain, spec]);
      } else visit(spec.split('/')[0]!.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!, [...chain, spec]);
    }
  };
  for (const e of entries) visit(resolve(SRC, e), [e]);
  return chains;
}

describe('start-up of a no-op run', () => {
  it('imports neither the YAML parser, the schema code nor the Node modules few runs need statically', () => {
    const chains = reached(ENTRIES);
    const offending = LOADED_ON_DEMAND.filter((pkg) => chains.has(pkg)).map((pkg) => chains.get(pkg)!.join(' -> '));
    expect(offending).toEqual([]);
  });

  it('would see such an import (the check reads the chain through the sources)', () => {
    const chains = reached(['project/component-schema.ts']);
    expect(chains.get('zod')).toEqual(['project/component-schema.ts', 'zod']);
    expect(reached(['cli/context.ts']).get('node:https')).toBeUndefined();
    expect(reached(['../test/unit/start-up-imports.test.ts']).get('node:fs')).toEqual(['../test/unit/start-up-imports.test.ts', 'node:fs']);
  });
});
