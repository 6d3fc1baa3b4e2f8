/** Paths a project's files name: they stay inside the project (no absolute path, no `..`, no link that leads out). */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, posix, relative, resolve } from 'node:path';
import type { ContextAdditions } from './model.js';

/** Whether `path` is `root` or below it. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** What is wrong with a file or folder a project file names: it leads out of the project, or is not there as that kind; undefined when neither. */
export function projectPathProblem(root: string, path: string, kind: 'file' | 'folder'): { outside: string } | 'missing' | undefined {
  const real = existsSync(path) ? realpathSync(path) : path;
  if (!isInside(realpathSync(root), real)) return { outside: real };
  if (!existsSync(path) || (kind === 'file' ? !statSync(path).isFile() : !statSync(path).isDirectory())) return 'missing';
  return undefined;
}

/**
 * `add:` as the build reads it: each place in the context checked (relative, inside the context,
 * not the context itself), each folder resolved against `base` and checked to be a folder of the
 * project. Problems go to `problem`, with the key they concern.
 */
export function readAdditions(
  root: string,
  base: string,
  add: Record<string, string[]> | undefined,
  problem: (key: string, message: string) => void,
): ContextAdditions {
  const additions: ContextAdditions = [];
  for (const [at, folders] of Object.entries(add ?? {})) {
    const place = posix.normalize(at.replace(/\\/g, '/')).replace(/\/$/, '');
    if (posix.isAbsolute(place) || place === '.' || place === '..' || place.startsWith('../')) {
      problem(at, `"${at}" must be a folder inside the context, e.g. build (the place the folders are merged at)`);
      continue;
    }
    const from: string[] = [];
    for (const folder of folders) {
      const path = resolve(base, folder);
      const found = projectPathProblem(root, path, 'folder');
      if (found === 'missing') problem(at, `folder not found: ${relative(root, path)} (paths are relative to ${relative(root, base) || 'the project root'})`);
      else if (found) problem(at, `must name folders inside the project (${folder} resolves to ${found.outside})`);
      else from.push(path);
    }
    additions.push({ at: place, from });
  }
  return additions;
}
