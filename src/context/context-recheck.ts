/** Checks, at send time, that a folder the digest walked still holds what the walk saw — for the tar body and FileSync alike. */
import { type Dirent, lstatSync, readdirSync } from 'node:fs';
import { type BuildContext, folderSourcesOf } from './build-context.js';

/**
 * What makes the folder `path` (relative; '' for the context root) differ from the walk: the folder
 * itself when it is no folder any more, else each entry the context would take that the walk did
 * not see (a file added since would be missing from the image its content tag names).
 */
export function changesInFolder(ctx: BuildContext, path: string, walked: Set<string>): string[] {
  const names: Dirent[] = [];
  try {
    for (const dir of folderSourcesOf(ctx, path)) {
      if (!lstatSync(dir).isDirectory()) return [path];
      names.push(...readdirSync(dir, { withFileTypes: true }));
    }
  } catch {
    return [path];
  }
  const added: string[] = [];
  for (const d of names) {
    const rel = path ? `${path}/${d.name}` : d.name;
    const sendable = d.isFile() || d.isDirectory() || d.isSymbolicLink() || d.isFIFO();
    if (sendable && !walked.has(rel) && ctx.admits(rel) && !added.includes(rel)) added.push(rel);
  }
  return added;
}
