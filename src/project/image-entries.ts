/**
 * The `images:` of helmet-build.yaml as built components without a KFP spec: a base that a build
 * script made, an image several components share. Each is planned, built, pushed, pinned and
 * recorded like a component, under its key (the name FROM lines and `image:` lines use), and a FROM
 * naming it starts from it.
 */
import { relative, resolve } from 'node:path';
import type { ConfigProblem } from '../errors.js';
import { type ComponentRead, imageNameOf } from './component-file.js';
import type { BuiltComponent } from './model.js';
import type { FoundImage } from './project-config.js';
import { projectPathProblem, readAdditions } from './project-paths.js';
import { CONFIG_FILE } from './project-root.js';

export function readImageEntry(root: string, image: FoundImage): { read?: ComponentRead; problems: ConfigProblem[] } {
  const { name, entry, problemAt } = image;
  const problems: ConfigProblem[] = [];
  const contextDir = resolve(root, entry.context);
  const dockerfilePath = resolve(contextDir, entry.dockerfile);
  for (const [what, path, kind] of [
    ['context', contextDir, 'folder'],
    ['dockerfile', dockerfilePath, 'file'],
  ] as const) {
    const problem = projectPathProblem(root, path, kind);
    if (problem === 'missing') problems.push(problemAt(`${what}: ${kind} not found: ${relative(root, path)}`));
    else if (problem) problems.push(problemAt(`${what} must be a ${kind} inside the project (${relative(root, path)})`));
  }
  const add = readAdditions(root, root, entry.add, (at, message) => problems.push(problemAt(`add: ${at}: ${message}`)));
  if (entry.platform && entry.platforms) problems.push(problemAt('give platform (one) or platforms (a list), not both'));
  const repository = imageNameOf(name);
  if (!repository) problems.push(problemAt(`"${name}" gives no image name to push (its last path segment must be a lowercase image name)`));
  if (problems.length) return { problems };
  const component: BuiltComponent = {
    kind: 'built',
    name,
    dir: contextDir,
    file: CONFIG_FILE,
    // No component.yaml describes it: the spec only names the image, and none is ever written.
    spec: { name, implementation: { container: { image: name } } },
    imageOnly: true,
    build: {
      image: repository!,
      origin: 'project-file',
      contextDir,
      dockerfilePath,
      args: entry.args,
      ...(entry.platforms || entry.platform ? { platforms: [...(entry.platforms ?? [entry.platform!])].sort() } : {}),
      target: entry.target,
      network: entry.network,
      secrets: [],
      ssh: [],
      ...(add.length ? { add } : {}),
    },
  };
  return { read: { component, problemAt: (_path, message) => problemAt(message) }, problems: [] };
}
