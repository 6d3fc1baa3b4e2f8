/**
 * Every file helmet-build writes goes through here: written so that readers see either the old or
 * the new content, never a torn one, and a write the file system refuses (a full disk, no
 * permission, a read-only mount) is an OutputWriteError naming the file and the cause.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { OutputWriteError } from '../errors.js';

/** Refusals of the file system, in words a user can act on. */
const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  EISDIR: 'a folder stands where the file should be',
  ENOTDIR: 'a file stands where a folder should be',
  EMFILE: 'too many open files',
  EIO: 'an I/O error of the device',
};

/**
 * Write a file atomically: a temp file beside it, then a rename over it (atomic within a file
 * system). A file that already holds exactly `content` is left alone (a no-op run rewrites nothing).
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  if (holds(path, content)) return;
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw writeError(path, e);
  }
}

/** A file system refusal as an OutputWriteError; anything else as it is. */
export function writeError(path: string, e: unknown): unknown {
  const code = (e as { code?: string }).code ?? '';
  const cause = WRITE_FAILURES[code];
  if (!cause) return e;
  return new OutputWriteError(`cannot write ${path}: ${cause} (${code})`, {
    cause: e,
    hint:
      code === 'ENOSPC' || code === 'EDQUOT'
        ? `Free space on the device holding ${dirname(path)}, then run again.`
        : 'Check the permissions of the output folder (--out).',
  });
}

function holds(path: string, content: string | Uint8Array): boolean {
  try {
    return readFileSync(path).equals(typeof content === 'string' ? Buffer.from(content) : content);
  } catch {
    return false;
  }
}
