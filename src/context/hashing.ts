/** SHA-256 of context files and strings: the one hash every input digest and cache entry is made of. */

import { createHash, hash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { CHUNK, HASH_WHOLE_LIMIT } from './verified-reads.js';

export interface FileHasher {
  /** The SHA-256 hex of the file at `abs`, whose lstat is `st`; `read` hashes its content. */
  hash(abs: string, st: Stats, read: () => string): string;
}

export function sha256(data: string | Uint8Array): string {
  // One-shot: much cheaper than a Hash object for the many small inputs of a context.
  return hash('sha256', data, 'hex');
}

/** The SHA-256 hex of a file's content; `size` (from its lstat) picks whole-file or chunked reading. */
export function sha256OfFile(path: string, size: number): string {
  return size <= HASH_WHOLE_LIMIT ? sha256(readFileSync(path)) : sha256OfLargeFile(path);
}

function sha256OfLargeFile(path: string): string {
  const digest = createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, 'r');
  try {
    for (let n = readSync(fd, buffer, 0, CHUNK, null); n > 0; n = readSync(fd, buffer, 0, CHUNK, null)) digest.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return digest.digest('hex');
}
