/**
 * The folders a BuildKit build reads through the session's FileSync, as data: what the context
 * module serves and the engine's session sends. One definition for both sides.
 */

/**
 * The folders a BuildKit build reads through the session's FileSync (`moby.filesync.v1.FileSync/DiffCopy`):
 * `context` and `dockerfile`, as the Dockerfile frontend names them.
 */
export interface LocalDirs {
  kind: 'local-dirs';
  dir(name: string): LocalDir | undefined;
}

/** What the daemon asks of a folder: fsutil's filters (root-anchored .dockerignore patterns, paths to follow). */
export interface DirFilter {
  includePatterns: string[];
  excludePatterns: string[];
  followPaths: string[];
}

/** One entry of a folder as FileSync sends it (fsutil's Stat). */
export interface LocalEntry {
  /** Relative, `/`-separated. */
  path: string;
  /** Go's os.FileMode: permission bits, and the type bits (Dir 1<<31, Symlink 1<<27, NamedPipe 1<<25). */
  mode: number;
  size: number;
  /** Nanoseconds since the epoch, as a decimal string (beyond what a JS number holds exactly). */
  modTime: string;
  linkname?: string;
}

/** One folder: what to send for a request, and the content of each file sent. */
export interface LocalDir {
  /** The entries to send for one request, in fsutil's order (depth first, names in byte order), parents first. */
  list(filter: DirFilter): LocalEntry[];
  /** The content of a regular file listed by `list`, in pieces; throws when it is no longer what was listed. */
  read(entry: LocalEntry): Iterable<Buffer>;
}
