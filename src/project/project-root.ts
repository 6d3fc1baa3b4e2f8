/**
 * Finding the project and choosing components in it: what every command needs before (or without)
 * loading the project's files, kept apart from the loader so that it costs no YAML or schema code.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { BuiltComponent, Component, Project } from './model.js';

export const PIPELINE_FILE = 'pipeline.yaml';
/** The project's own settings: where its components and pipeline are (optional). */
export const CONFIG_FILE = 'helmet-build.yaml';

/** The nearest folder at or above `cwd` that has a helmet-build.yaml or a components/ folder. */
export function findProjectRoot(cwd: string): string {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, CONFIG_FILE)) || (existsSync(join(dir, 'components')) && statSync(join(dir, 'components')).isDirectory())) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new UsageError(`no helmet-build.yaml or components/ folder found in ${resolve(cwd)} or any folder above it`, {
        hint: 'Run helmet-build inside a project (a folder with components/<name>/component.yaml, or a helmet-build.yaml that says where they are), or pass -C <dir>.',
      });
    }
    dir = parent;
  }
}

/** Select components by name; unknown names are a usage error listing the known ones. */
export function selectComponents(project: Project, names: string[]): Component[] {
  if (names.length === 0) return project.components;
  const known = new Map(project.components.map((c) => [c.name, c]));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new UsageError(`unknown component(s): ${unknown.join(', ')}`, {
      hint: `Known components: ${[...known.keys()].join(', ')}. Each is a folder components/<name>/ with a component.yaml.`,
    });
  }
  return names.map((n) => known.get(n)!);
}

/** Built components a selection needs: itself and the bases it starts from, bases first. */
export function withBases(selected: Component[]): BuiltComponent[] {
  const out: BuiltComponent[] = [];
  const visit = (c: BuiltComponent) => {
    if (out.includes(c)) return;
    if (c.base) visit(c.base);
    out.push(c);
  };
  // A prebuilt component pinned to an image built here needs that image as much as a dependant its base.
  for (const c of selected) {
    if (c.kind === 'built') visit(c);
    else if (c.imageOf) visit(c.imageOf);
  }
  return out;
}
