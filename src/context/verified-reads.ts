/**
 * How the context's files are read when they are sent, and the sizes that decide how: one module
 * for the tar body, FileSync and the hashing, so that what is checked and how much is held in
 * memory is said once. Every read opens without following a link and without blocking on a FIFO
 * (a file replaced by either since the walk is then a change, never a hang or a read elsewhere).
 */
import { constants, lstatSync, readlinkSync } from 'node:fs';
import type { Ignore } from '@balena/dockerignore';
import * as dockerignoreModule from '@balena/dockerignore';

export const READ_NEVER_BLOCKING = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** Large files are read, hashed and sent this many bytes at a time: memory stays flat whatever their size. */
export const CHUNK = 1024 * 1024;
/** Files up to this size are hashed in one read (few syscalls on the walk of a large context). */
export const HASH_WHOLE_LIMIT = 8 * 1024 * 1024;
/** Files up to this size go into the tar body's batches (gathered in CHUNK-sized buffers, few pushes). */
export const TAR_BATCHED_LIMIT = 256 * 1024;
/** Files up to this size are read and checked whole before FileSync sends a byte of them (a changed one is never half-sent). */
export const SYNC_WHOLE_LIMIT = CHUNK;

/** A link's target, '' when it is no link any more. */
export function readLinkOrEmpty(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

export function isFifo(path: string): boolean {
  try {
    return lstatSync(path).isFIFO();
  } catch {
    return false;
  }
}

// @balena/dockerignore is CommonJS but its types declare `export default`: take whichever is callable.
type DockerignoreFactory = (options?: { ignorecase?: boolean }) => Ignore;
const dockerignoreFactory: DockerignoreFactory =
  (dockerignoreModule as unknown as { default?: DockerignoreFactory }).default ?? (dockerignoreModule as unknown as DockerignoreFactory);

/** A matcher of .dockerignore patterns with Docker's own rules (case-sensitive, as on Linux). */
export function dockerignoreMatcher(patterns: string[]): Ignore {
  return dockerignoreFactory({ ignorecase: false }).add(patterns);
}
