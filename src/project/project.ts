import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ConfigError, UsageError, type ConfigProblem } from '../errors.js';
import { componentFileSchema, type BuildSpec, type ComponentFile } from './component-schema.js';
import { allowedKeysAt } from './schema-keys.js';
import { YamlSource } from './yaml-source.js';

export interface Component {
  /** Folder name under components/; the name users type (`helmet-build build train`). */
  name: string;
  /** Absolute path of the component folder. */
  dir: string;
  /** Path of its component.yaml relative to the project root, for messages. */
  file: string;
  spec: ComponentFile;
  /** Resolved build settings, or undefined for a prebuilt component. */
  build?: ResolvedBuild;
  /** Line and column of a key in component.yaml, for messages about it. */
  locate: (path: (string | number)[]) => { line?: number; column?: number };
}

export interface ResolvedBuild extends BuildSpec {
  /** Absolute paths. */
  contextDir: string;
  dockerfilePath: string;
}

export interface Project {
  root: string;
  components: Component[];
}

/** The nearest folder at or above `cwd` that has a components/ folder. */
export function findProjectRoot(cwd: string): string {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, 'components')) && statSync(join(dir, 'components')).isDirectory()) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new UsageError(`no components/ folder found in ${resolve(cwd)} or any folder above it`, {
        hint: 'Run helmet-build inside a project (a folder with components/<name>/component.yaml), or pass --cwd.',
      });
    }
    dir = parent;
  }
}

/** Discover and validate every components/<name>/component.yaml. All problems are reported together. */
export function loadProject(root: string): Project {
  const componentsDir = join(root, 'components');
  const names = readdirSync(componentsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(componentsDir, d.name, 'component.yaml')))
    .map((d) => d.name)
    .sort();
  const problems: ConfigProblem[] = [];
  const components: Component[] = [];
  for (const name of names) {
    const result = loadComponent(root, name);
    problems.push(...result.problems);
    if (result.component) components.push(result.component);
  }
  problems.push(...checkReferences(components));
  if (problems.length) throw new ConfigError(problems);
  return { root, components };
}

function loadComponent(root: string, name: string): { component?: Component; problems: ConfigProblem[] } {
  const dir = join(root, 'components', name);
  const file = relative(root, join(dir, 'component.yaml'));
  const { source, problems } = YamlSource.read(join(dir, 'component.yaml'), file);
  if (!source) return { problems };
  const parsed = componentFileSchema.safeParse(source.toJS());
  if (!parsed.success) {
    return { problems: source.problemsFrom(parsed.error.issues, (p) => allowedKeysAt(componentFileSchema, p)) };
  }
  const spec = parsed.data;
  const local: ConfigProblem[] = [];
  const at = (path: (string | number)[], message: string) =>
    local.push({ file, ...source.locate(path), path: path.join('.'), message });

  let build: ResolvedBuild | undefined;
  if (spec.build) {
    if (spec.implementation.container.image !== undefined) {
      at(['implementation', 'container', 'image'], 'must not be set when build: is present (the build provides the image)');
    }
    const dockerfilePath = resolve(root, spec.build.dockerfile);
    const contextDir = resolve(dir, spec.build.context);
    if (!existsSync(dockerfilePath) || !statSync(dockerfilePath).isFile()) {
      at(['build', 'dockerfile'], `file not found: ${relative(root, dockerfilePath)} (paths are relative to the project root)`);
    }
    if (!existsSync(contextDir) || !statSync(contextDir).isDirectory()) {
      at(['build', 'context'], `folder not found: ${relative(root, contextDir)} (paths are relative to the component folder)`);
    }
    build = { ...spec.build, dockerfilePath, contextDir };
  } else if (!spec.implementation.container.image) {
    at(['implementation', 'container'], 'needs either implementation.container.image (prebuilt) or a build: section');
  }
  checkPlaceholders(spec, at);
  return local.length ? { problems: local } : { component: { name, dir, file, spec, build, locate: (p) => source.locate(p) }, problems: [] };
}

/** Every placeholder must name a declared input or output. */
function checkPlaceholders(spec: ComponentFile, at: (path: (string | number)[], message: string) => void): void {
  const inputs = new Set((spec.inputs ?? []).map((i) => i.name));
  const outputs = new Set((spec.outputs ?? []).map((o) => o.name));
  const visit = (value: unknown, path: (string | number)[]): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => visit(v, [...path, i]));
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      if (['inputValue', 'inputPath', 'inputUri', 'isPresent'].includes(key) && typeof inner === 'string' && !inputs.has(inner)) {
        at([...path, key], `refers to input "${inner}", which is not declared under inputs:`);
      } else if (['outputPath', 'outputUri'].includes(key) && typeof inner === 'string' && !outputs.has(inner)) {
        at([...path, key], `refers to output "${inner}", which is not declared under outputs:`);
      } else visit(inner, [...path, key]);
    }
  };
  const container = spec.implementation.container;
  visit(container.command, ['implementation', 'container', 'command']);
  visit(container.args, ['implementation', 'container', 'args']);
  visit(container.env, ['implementation', 'container', 'env']);
}

/** `build.from` must name another built component, and `from` chains must not loop. */
function checkReferences(components: Component[]): ConfigProblem[] {
  const byName = new Map(components.map((c) => [c.name, c]));
  const problems: ConfigProblem[] = [];
  for (const c of components) {
    const from = c.build?.from;
    if (!from) continue;
    const target = byName.get(from);
    if (!target?.build) {
      problems.push({
        file: c.file,
        ...c.locate(['build', 'from']),
        path: 'build.from',
        message: `"${from}" is not a component with a build: section (known: ${components.filter((x) => x.build).map((x) => x.name).join(', ')})`,
      });
      continue;
    }
    const seen = new Set([c.name]);
    for (let cur: Component | undefined = target; cur?.build?.from; cur = byName.get(cur.build.from)) {
      if (seen.has(cur.name)) {
        problems.push({ file: c.file, ...c.locate(['build', 'from']), path: 'build.from', message: `"from" chain loops: ${[...seen, cur.name].join(' -> ')}` });
        break;
      }
      seen.add(cur.name);
    }
  }
  return problems;
}

/** Select components by name; unknown names are a usage error listing the known ones. */
export function selectComponents(project: Project, names: string[]): Component[] {
  if (names.length === 0) return project.components;
  const known = new Map(project.components.map((c) => [c.name, c]));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length) {
    throw new UsageError(`unknown component(s): ${unknown.join(', ')}`, {
      hint: `Known components: ${[...known.keys()].join(', ') || '(none)'}. Each is a folder components/<name>/ with a component.yaml.`,
    });
  }
  return names.map((n) => known.get(n)!);
}
