/**
 * Read and check one components/<name>/component.yaml: schema, paths, placeholders. Cross-component
 * checks (`from:`) and pipeline checks happen in load-project.ts, where every file is known.
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { imageNameOfRef } from '../dockerfile/from-lines.js';
import type { ConfigProblem } from '../errors.js';
import { type BuildSpec, type ComponentFile, componentFileSchema, IMAGE_NAME } from './component-schema.js';
import { dropKfpNulls } from './kfp-nulls.js';
import type { BuildSettings, BuiltComponent, PrebuiltComponent } from './model.js';
import type { FoundComponent } from './project-config.js';
import { projectPathProblem, readAdditions } from './project-paths.js';
import { allowedKeysAt } from './schema-keys.js';
import { YamlSource } from './yaml-source.js';

/** A component as read from its file, before `from:` is resolved. */
export interface ComponentRead {
  component: BuiltComponent | PrebuiltComponent;
  /** The `build.from` name, resolved by the project loader. */
  from?: string;
  /** Where a key of this file is, for problems found later. */
  problemAt: (path: (string | number)[], message: string) => ConfigProblem;
}

type At = (path: (string | number)[], message: string) => void;

export function readComponentFile(root: string, found: FoundComponent): { read?: ComponentRead; problems: ConfigProblem[] } {
  const { name, dir, file } = found;
  const { source, problems } = YamlSource.read(join(root, file), file);
  if (!source) return { problems };
  const { data: spec, problems: invalid } = source.check(componentFileSchema, dropKfpNulls(source.toJS()), (p) => allowedKeysAt(componentFileSchema, p));
  if (!spec) return { problems: invalid };
  const problemAt = (path: (string | number)[], message: string): ConfigProblem => ({ file, ...source.locate(path), path: path.join('.'), message });
  const local: ConfigProblem[] = [];
  // Build settings from helmet-build.yaml are wrong there, not in the component.yaml.
  const at: At = (path, message) =>
    local.push(
      found.build && path[0] === 'build'
        ? found.problemAt!(
            `${path
              .slice(1)
              .map((p) => `${p}: `)
              .join('')}${message}`,
          )
        : problemAt(path, message),
    );

  checkNames(spec, at);
  checkPlaceholders(spec, at);
  const image = spec.implementation.container.image;
  if (spec.build && found.build) {
    return { problems: [found.problemAt!(`${file} has a build: section too: give its build settings in one place`)] };
  }
  // A component.yaml without build: whose folder holds a Dockerfile is built from it, as its repository's scripts did.
  const dockerfileBeside = !spec.build && !found.build && existsSync(join(dir, 'Dockerfile'));
  const build: BuildSpec | undefined = spec.build ?? found.build ?? (dockerfileBeside ? { context: '.', args: {} } : undefined);
  let component: BuiltComponent | PrebuiltComponent | undefined;
  if (build) {
    const origin = dockerfileBeside ? 'dockerfile-beside' : found.build ? 'project-file' : 'build-section';
    component = { kind: 'built', name, dir, file, spec, build: buildSettings(root, dir, build, image, origin, at) };
  } else if (image) {
    component = { kind: 'prebuilt', name, dir, file, spec, image };
  } else {
    at(['implementation', 'container'], 'needs either implementation.container.image (prebuilt) or a build: section');
  }
  if (local.length || !component) return { problems: local };
  return { read: { component, from: build?.from, problemAt }, problems: [] };
}

/** The build settings as a build reads them: the image name, paths resolved and checked to be inside the project, `add:` read. */
function buildSettings(root: string, dir: string, build: BuildSpec, image: string | undefined, origin: BuildSettings['origin'], at: At): BuildSettings {
  // The image: line a KFP repository keeps for its own users stays; dist/ gets the built image in its place.
  const repository = build.image ?? imageNameOf(image);
  if (!repository) {
    at(
      origin === 'dockerfile-beside' ? ['implementation', 'container'] : ['build'],
      image === undefined
        ? 'needs build.image (the name of the image to build, e.g. helmet-train) or implementation.container.image to take it from'
        : `needs build.image: "${image}" gives no image name to build (its last path segment must be a lowercase image name)`,
    );
  }
  const dockerfilePath = build.dockerfile === undefined ? join(dir, 'Dockerfile') : resolve(root, build.dockerfile);
  const contextDir = resolve(dir, build.context);
  // A component reads only files of its project: no absolute paths, no `..` out of it, no link that leads out.
  const checkInProject = (key: 'dockerfile' | 'context', path: string, kind: 'file' | 'folder', relativeTo: string) => {
    const problem = projectPathProblem(root, path, kind);
    if (problem === 'missing') at(['build', key], `${kind} not found: ${relative(root, path)} (paths are relative to ${relativeTo})`);
    else if (problem) at(['build', key], `must be a ${kind} inside the project (${build[key]} resolves to ${problem.outside})`);
  };
  if (build.dockerfile === undefined) {
    if (!existsSync(dockerfilePath)) at(['build'], `has no dockerfile: and there is no Dockerfile beside component.yaml (${relative(root, dockerfilePath)})`);
  } else checkInProject('dockerfile', dockerfilePath, 'file', 'the project root');
  checkInProject('context', contextDir, 'folder', 'the component folder');
  const add = readAdditions(root, dir, build.add, (key, message) => at(['build', 'add', key], message));
  const { args, target, network } = build;
  if (build.platform && build.platforms) at(['build', 'platforms'], 'give platform (one) or platforms (a list), not both');
  const platforms = build.platforms ?? (build.platform ? [build.platform] : undefined);
  return {
    image: repository ?? '',
    origin,
    contextDir,
    dockerfilePath,
    args,
    ...(platforms ? { platforms: [...platforms].sort() } : {}),
    target,
    network,
    secrets: [...new Set(build.secrets ?? [])],
    ssh: [...new Set(build.ssh ?? [])],
    ...(add.length ? { add } : {}),
  };
}

/**
 * The image name a component.yaml's own `image:` gives: its last path segment without tag or digest
 * (`gcr.io/ml-pipeline/ml-pipeline-local-roc:1.7.0` → `ml-pipeline-local-roc`), or undefined when
 * there is none or it is no image name.
 */
export function imageNameOf(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const name = imageNameOfRef(image);
  const last = name.slice(name.lastIndexOf('/') + 1);
  return IMAGE_NAME.test(last) ? last : undefined;
}

/** Input and output names are unique, and fileOutputs name declared outputs (KFP's loader refuses both). */
function checkNames(spec: ComponentFile, at: (path: (string | number)[], message: string) => void): void {
  for (const [key, what] of [
    ['inputs', 'input'],
    ['outputs', 'output'],
  ] as const) {
    const seen = new Set<string>();
    (spec[key] ?? []).forEach((item, i) => {
      if (seen.has(item.name)) at([key, i, 'name'], `${what} "${item.name}" is declared twice: names of ${key} must be unique`);
      seen.add(item.name);
    });
  }
  const outputs = new Set((spec.outputs ?? []).map((o) => o.name));
  for (const name of Object.keys(spec.implementation.container.fileOutputs ?? {})) {
    if (!outputs.has(name)) at(['implementation', 'container', 'fileOutputs', name], `output "${name}" is not declared under outputs:`);
  }
}

/** Every placeholder must name a declared input or output. */
function checkPlaceholders(spec: ComponentFile, at: (path: (string | number)[], message: string) => void): void {
  const inputs = new Set((spec.inputs ?? []).map((i) => i.name));
  const outputs = new Set((spec.outputs ?? []).map((o) => o.name));
  const visit = (value: unknown, path: (string | number)[]): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => visit(v, [...path, i]));
      return;
    }
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
