/** Paths a project's files name: they stay inside the project (no absolute path, no `..`, no link that leads out). */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';

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
