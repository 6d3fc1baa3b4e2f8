/**
 * One writer of an output folder at a time. A run that writes `dist/` holds `dist/.helmet-build.lock`
 * (created exclusively, holding the owner's pid); a second run on the same folder is refused at once
 * with exit 2 rather than interleaving its writes. A lock whose process is gone (a crash, a killed
 * machine) is taken over, and so is an unreadable one older than a few seconds.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { OutputLockedError } from '../errors.js';
import { writeError } from '../fs/atomic-write.js';

export const LOCK_FILE = '.helmet-build.lock';

export interface OutputLock {
  release(): void;
}

interface LockOwner {
  pid: number;
  started: string;
}

/** Takes the lock of `outDir`; a folder the file system will not let us write is an OutputWriteError (exit 1) before anything runs. */
export function acquireOutputLock(outDir: string, root: string): OutputLock {
  const path = join(outDir, LOCK_FILE);
  try {
    return takeLock(outDir, path, root);
  } catch (e) {
    throw e instanceof OutputLockedError ? e : writeError(relative(root, path) || path, e);
  }
}

function takeLock(outDir: string, path: string, root: string): OutputLock {
  mkdirSync(outDir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = readOwner(path);
      const locked = (by: string) =>
        new OutputLockedError(`${relative(root, outDir) || '.'} is being written by another helmet-build (${by})`, {
          hint: `Wait for it to finish. If no helmet-build is running, remove ${relative(root, path)}.`,
        });
      // An unreadable lock this young is one another run created an instant ago and is still writing.
      if (!owner && Date.now() - lockAge(path) < FRESH_LOCK_MS) throw locked('it started a moment ago');
      if (owner && isAlive(owner.pid)) throw locked(`pid ${owner.pid}, since ${owner.started}`);
      // Left by a process that no longer runs (or unreadable, half-written by one that died): take it over.
      rmSync(path, { force: true });
      continue;
    }
    const owner: LockOwner = { pid: process.pid, started: new Date().toISOString() };
    try {
      writeSync(fd, `${JSON.stringify(owner)}\n`);
    } catch (e) {
      // Never leave a lock without an owner behind (the next run would wait for it).
      closeSync(fd);
      rmSync(path, { force: true });
      throw e;
    }
    closeSync(fd);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (readOwner(path)?.pid === process.pid) rmSync(path, { force: true });
      },
    };
  }
  throw new OutputLockedError(`could not take ${relative(root, path)}: another helmet-build took it at the same moment`, {
    hint: 'Run one helmet-build at a time on a project.',
  });
}

/** A lock file without a readable owner younger than this is still being written. */
const FRESH_LOCK_MS = 10_000;

/** When the lock file was last written (0 when it is gone). */
function lockAge(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return Number.isInteger(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
