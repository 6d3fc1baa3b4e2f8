/**
 * The load phase: find the project, read every component.yaml and pipeline.yaml, resolve every
 * cross-reference, and report every problem in every file at once (exit 2) — before the engine or
 * the registry is touched.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type ConfigProblem, UsageError } from '../errors.js';
import { topologicalOrder } from '../graph/graph.js';
import { type ComponentRead, readComponentFile } from './component-file.js';
import { resolveDockerfileBases, resolvePrebuiltImages } from './dockerfile-bases.js';
import { readImageEntry } from './image-entries.js';
import type { Project } from './model.js';
import { readPipelineFile } from './pipeline-file.js';
import { discoverComponents } from './project-config.js';

export function loadProject(root: string): Project {
  const discovery = discoverComponents(root);
  if (discovery.problems.length) throw new ConfigError(discovery.problems);
  const folders = discovery.components.map((c) => c.name);
  if (folders.length === 0) {
    throw new UsageError(`no components in ${join(root, 'components')}`, {
      hint: 'Each component is a folder components/<name>/ with a component.yaml, or helmet-build.yaml says where they are (components: [paths or globs]).',
    });
  }
  const problems: ConfigProblem[] = [];
  const reads = new Map<string, ComponentRead>();
  for (const found of discovery.components) {
    const { read, problems: failed } = readComponentFile(root, found);
    problems.push(...failed);
    if (read) reads.set(found.name, read);
  }
  // Pipeline steps name components only; images take part in everything else.
  const componentReads = new Map(reads);
  for (const image of discovery.images) {
    if (folders.includes(image.name)) {
      problems.push(image.problemAt(`"${image.name}" is also the name of a component: name the image differently`));
      continue;
    }
    const { read, problems: failed } = readImageEntry(root, image);
    problems.push(...failed);
    if (read) reads.set(image.name, read);
  }
  if (discovery.platforms)
    for (const { component } of reads.values()) if (component.kind === 'built') component.build.platforms ??= [...discovery.platforms].sort();
  const names = [...folders, ...discovery.images.map((i) => i.name)];
  problems.push(...resolveBases(root, reads, names), ...duplicateImages(reads));
  resolvePrebuiltImages(reads);
  const { pipelineFile } = discovery;
  const pipeline = existsSync(join(root, pipelineFile)) ? readPipelineFile(root, componentReads, folders, pipelineFile) : undefined;
  problems.push(...(pipeline?.problems ?? []));
  if (problems.length) throw new ConfigError(problems);

  const order = topologicalOrder([...reads.keys()], (n) => {
    const c = reads.get(n)!.component;
    const made = c.kind === 'built' ? c.base : c.imageOf;
    return made ? [made.name] : [];
  }).order!;
  const source = { pipelineFile, ...(discovery.configFile ? { configFile: discovery.configFile } : {}), globbed: discovery.globbed };
  const engines = { ...(discovery.engines ? { engines: discovery.engines } : {}), ...(discovery.signKey ? { signKey: discovery.signKey } : {}) };
  return { root, components: order.map((n) => reads.get(n)!.component), pipeline: pipeline?.pipeline, source, ...engines };
}

/** `build.from` must name another built component (or FROM lines name its image), and `from` chains must not loop. */
function resolveBases(root: string, reads: Map<string, ComponentRead>, folders: readonly string[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const { component, from, problemAt } of reads.values()) {
    if (!from || component.kind !== 'built') continue;
    const base = reads.get(from)?.component;
    if (base?.kind === 'built') component.base = base;
    else if (!folders.includes(from) || base) {
      const known = [...reads.values()].filter((r) => r.component.kind === 'built').map((r) => r.component.name);
      problems.push(problemAt(['build', 'from'], `"${from}" is not a component with a build: section (known: ${known.join(', ')})`));
    }
  }
  if (problems.length === 0) problems.push(...resolveDockerfileBases(root, reads));
  for (const { component, problemAt } of reads.values()) {
    const seen = [component.name];
    for (let cur = component.kind === 'built' ? component.base : undefined; cur; cur = cur.base) {
      if (seen.includes(cur.name)) {
        // Each member of a loop reports it from its own file.
        if (cur.name === component.name) problems.push(problemAt(['build', 'from'], `"from" chain loops: ${[...seen, cur.name].join(' -> ')}`));
        break;
      }
      seen.push(cur.name);
    }
  }
  return problems;
}

/** Two components building one image would race for its tags: each needs its own. */
function duplicateImages(reads: Map<string, ComponentRead>): ConfigProblem[] {
  const byImage = new Map<string, string[]>();
  for (const { component } of reads.values()) {
    if (component.kind === 'built') byImage.set(component.build.image, [...(byImage.get(component.build.image) ?? []), component.name]);
  }
  return [...reads.values()].flatMap(({ component, problemAt }) => {
    if (component.kind !== 'built') return [];
    const others = byImage.get(component.build.image)!.filter((n) => n !== component.name);
    return others.length
      ? [problemAt(['build', 'image'], `"${component.build.image}" is also the image of ${others.join(', ')}: each component needs an image of its own`)]
      : [];
  });
}
