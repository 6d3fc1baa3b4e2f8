/**
 * The folders a BuildKit build reads through the session's FileSync, made from the walk the input
 * digest was computed over: `context` holds exactly the walked entries (the daemon's own
 * `.dockerignore` patterns then drop `.dockerignore` and an in-context Dockerfile when it lists
 * them, as with docker build), `dockerfile` holds the Dockerfile content that was digested, alone.
 *
 * What is sent is checked against the digest: every entry is looked at again when the daemon asks
 * for the list, every file's content as it is sent. A difference is recorded (and a file whose
 * content differs is never completed: the transfer fails), so the build cannot carry the content tag.
 *
 * Metadata is normalised as in the tar body (owner 0:0, mode 0644/0755 from the executable bit);
 * an entry's mtime is derived from its content hash, so the daemon, which compares sizes and mtimes
 * with what it kept from the last build, asks again exactly for the files whose content changed,
 * and image layers depend on content only.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { DirFilter, LocalDir, LocalDirs, LocalEntry } from '../model/local-dirs.js';
import { type BuildContext, type ContextEntry, entrySource } from './build-context.js';
import { changesInFolder } from './context-recheck.js';
import { sha256 } from './hashing.js';
import { CHUNK, dockerignoreMatcher, READ_NEVER_BLOCKING, readLinkOrEmpty, SYNC_WHOLE_LIMIT } from './verified-reads.js';

/** Go's os.FileMode type bits. */
const GO_DIR = 0x80000000;
const GO_SYMLINK = 0x08000000;
const GO_NAMED_PIPE = 0x02000000;
/** 2000-01-01T00:00:00Z in nanoseconds: the mtime of folders, and the base of content-derived ones. */
const BASE_NS = 946684800n * 1_000_000_000n;

export interface ContextDirs extends LocalDirs {
  /** The Dockerfile's name in the `dockerfile` folder (the build's `dockerfile` parameter). */
  dockerfile: string;
  dir(name: string): LocalDir | undefined;
  /** The entries that differ from what the input digest was computed over; non-empty: no content tag. */
  changedEntries(): string[];
}

/** FileSync's two folders for `ctx`; `dockerfileName` names the Dockerfile in its own folder. */
export function createContextDirs(ctx: BuildContext, dockerfileName: string): ContextDirs {
  const changed = new Set<string>();
  const context = new ContextDir(ctx, changed);
  const dockerfile = new DockerfileDir(
    dockerfileName,
    ctx.dockerfileContent,
    ctx.dockerignorePath !== undefined ? Buffer.from(ctx.dockerignore ?? '') : undefined,
  );
  return {
    kind: 'local-dirs',
    dockerfile: dockerfileName,
    dir: (name) => (name === 'context' ? context : name === 'dockerfile' ? dockerfile : undefined),
    changedEntries: () => [...changed].sort(),
  };
}

/** A content-derived mtime: a changed content changes it, the same content keeps it. */
function contentTime(hex: string): string {
  return (BASE_NS + BigInt(`0x${hex.slice(0, 10)}`)).toString();
}

function fileEntry(path: string, executable: boolean, size: number, hex: string): LocalEntry {
  return { path, mode: executable ? 0o755 : 0o644, size, modTime: contentTime(hex) };
}

function dirEntry(path: string): LocalEntry {
  return { path, mode: (GO_DIR | 0o755) >>> 0, size: 0, modTime: BASE_NS.toString() };
}

/**
 * The Dockerfile alone, and the `<Dockerfile>.dockerignore` beside it when there is one: the engine
 * (20.10 and 26.1 alike) looks for it here first, and takes its patterns over the context's. Any
 * other file beside the Dockerfile is not part of the input digest, and is not sent.
 */
class DockerfileDir implements LocalDir {
  private readonly files: { entry: LocalEntry; content: Buffer }[];

  constructor(name: string, content: Buffer, dockerignore: Buffer | undefined) {
    this.files = [{ entry: fileEntry(name, false, content.length, sha256(content)), content }];
    if (dockerignore) this.files.push({ entry: fileEntry(`${name}.dockerignore`, false, dockerignore.length, sha256(dockerignore)), content: dockerignore });
  }

  list(filter: DirFilter): LocalEntry[] {
    const wanted = (path: string) => !filter.followPaths.length || filter.followPaths.includes(path);
    return sortFsutil(this.files.filter((f) => wanted(f.entry.path)).map((f) => f.entry));
  }

  *read(entry: LocalEntry): Iterable<Buffer> {
    const file = this.files.find((f) => f.entry.path === entry.path);
    if (!file) throw new Error(`${entry.path} is not in the Dockerfile's folder`);
    yield file.content;
  }
}

class ContextDir implements LocalDir {
  private readonly byPath: Map<string, ContextEntry>;
  private checked = false;

  constructor(
    private readonly ctx: BuildContext,
    private readonly changed: Set<string>,
  ) {
    this.byPath = new Map(ctx.entries.map((e) => [e.path, e]));
  }

  list(filter: DirFilter): LocalEntry[] {
    if (!this.checked) {
      this.checked = true;
      this.checkAll();
    }
    const excluded = filter.excludePatterns.length ? dockerignoreMatcher(filter.excludePatterns) : undefined;
    const included = filter.includePatterns.length ? dockerignoreMatcher(filter.includePatterns) : undefined;
    const follow = this.followed(filter.followPaths);
    const kept = new Map<string, LocalEntry>();
    for (const e of this.ctx.entries) {
      if (excluded?.ignores(e.path)) continue;
      if (included && !included.ignores(e.path)) continue;
      if (follow && !follow.some((f) => e.path === f || e.path.startsWith(`${f}/`))) continue;
      kept.set(e.path, this.toSync(e));
    }
    // fsutil sends every parent before what it holds, also a folder .dockerignore excludes whose
    // content a `!` pattern brings back (docker build creates it too).
    for (const path of [...kept.keys()]) {
      for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
        const parent = path.slice(0, i);
        if (kept.has(parent)) break;
        kept.set(parent, dirEntry(parent));
      }
    }
    return sortFsutil([...kept.values()]);
  }

  /** Paths to follow, with the in-context targets of links among them (fsutil follows them too). */
  private followed(paths: string[]): string[] | undefined {
    if (!paths.length) return undefined;
    const out = [...paths];
    for (const p of paths) {
      const target = this.byPath.get(p)?.linkTarget;
      if (target && !target.startsWith('/')) {
        const resolved = join(p, '..', target);
        if (!resolved.startsWith('..')) out.push(resolved);
      }
    }
    return out;
  }

  private toSync(e: ContextEntry): LocalEntry {
    if (e.kind === 'dir') return dirEntry(e.path);
    if (e.kind === 'fifo') return { path: e.path, mode: (GO_NAMED_PIPE | (e.mode & 0o777)) >>> 0, size: 0, modTime: BASE_NS.toString() };
    if (e.kind === 'symlink') {
      const link = e.linkTarget ?? '';
      return { path: e.path, mode: (GO_SYMLINK | 0o777) >>> 0, size: Buffer.byteLength(link), modTime: contentTime(e.sha256), linkname: link };
    }
    return fileEntry(e.path, (e.mode & 0o111) !== 0, e.size, e.sha256);
  }

  /**
   * Every walked entry is still what it was (kind, size, link target), and no walked folder holds
   * something the context would take that the walk did not see.
   */
  private checkAll(): void {
    const walked = new Set(this.byPath.keys());
    this.checkFolder('', walked);
    for (const e of this.ctx.entries) {
      if (e.kind === 'dir') {
        // changesInFolder tells a folder that is no folder any more.
        this.checkFolder(e.path, walked);
        continue;
      }
      const abs = entrySource(this.ctx, e);
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(abs);
      } catch {
        this.changed.add(e.path);
        continue;
      }
      if (e.kind === 'symlink') {
        if (!st.isSymbolicLink() || sha256(readLinkOrEmpty(abs)) !== e.sha256) this.changed.add(e.path);
      } else if (e.kind === 'fifo') {
        if (!st.isFIFO()) this.changed.add(e.path);
      } else if (!st.isFile() || st.size !== e.size) this.changed.add(e.path);
    }
  }

  private checkFolder(path: string, walked: Set<string>): void {
    for (const p of changesInFolder(this.ctx, path, walked)) this.changed.add(p);
  }

  /** The content of a file as digested; a file that differs is recorded and its transfer fails before it completes. */
  *read(entry: LocalEntry): Iterable<Buffer> {
    const want = this.byPath.get(entry.path);
    if (want?.kind !== 'file') throw new Error(`${entry.path} is not a file of the context`);
    const fail = () => {
      this.changed.add(entry.path);
      return new Error(`${entry.path} changed since the input digest was computed`);
    };
    let fd: number;
    try {
      fd = openSync(entrySource(this.ctx, want), READ_NEVER_BLOCKING);
    } catch {
      throw fail();
    }
    try {
      if (!fstatSync(fd).isFile()) throw fail();
      if (want.size <= SYNC_WHOLE_LIMIT) {
        // One byte more than digested: a file that grew is noticed.
        const buffer = Buffer.allocUnsafe(want.size + 1);
        const n = readSync(fd, buffer, 0, buffer.length, 0);
        const content = buffer.subarray(0, n);
        if (n !== want.size || sha256(content) !== want.sha256) throw fail();
        yield content;
        return;
      }
      const hash = createHash('sha256');
      let left = want.size;
      const buffer = Buffer.allocUnsafe(CHUNK);
      while (left > 0) {
        const n = readSync(fd, buffer, 0, Math.min(CHUNK, left), null);
        if (n === 0) throw fail();
        left -= n;
        hash.update(buffer.subarray(0, n));
        yield buffer.subarray(0, n);
      }
      // Nothing more than digested, and the same bytes.
      if (readSync(fd, Buffer.allocUnsafe(1), 0, 1, null) !== 0 || hash.digest('hex') !== want.sha256) throw fail();
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * fsutil's order (its ComparePath): byte by byte, with `/` before any other byte, which is a depth
 * first walk with the names of each folder in byte order.
 */
export function sortFsutil<T extends { path: string }>(entries: T[]): T[] {
  const keyed = entries.map((e) => {
    const key = Buffer.from(e.path, 'utf8');
    for (let i = 0; i < key.length; i++) if (key[i] === 0x2f) key[i] = 0;
    return { e, key };
  });
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map((k) => k.e);
}
