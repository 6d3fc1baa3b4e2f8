/**
 * `.helmet-cache/` at the project root: what helmet-build keeps between runs only to go faster (the
 * stat cache of context files, the checked project). Deleting it costs time, never a result; it
 * ignores itself for git and is never part of a build context.
 */
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';

export const CACHE_DIR = '.helmet-cache';

declare const __HELMET_BUILD_ID__: string | undefined;
/**
 * This build of helmet-build (set by scripts/bundle.mjs from its sources): what one build computed
 * and cached is used again by the same build only. Undefined when running from the sources, which
 * keep no such cache.
 */
export const BUILD_ID = typeof __HELMET_BUILD_ID__ === 'string' ? __HELMET_BUILD_ID__ : undefined;

/** The path of a cache file of the project at `root`. */
export function cacheFile(root: string, name: string): string {
  return join(root, CACHE_DIR, name);
}

/** Write a cache file atomically, with the folder's own .gitignore. Throws OutputWriteError like any write. */
export function writeCacheFile(root: string, name: string, content: string): void {
  writeFileAtomic(cacheFile(root, name), content);
  writeFileAtomic(cacheFile(root, '.gitignore'), '*\n');
}
