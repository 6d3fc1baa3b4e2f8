/**
 * A stat cache for context hashing, so that a run over unchanged files reads no file contents: per
 * file, (size, mtime ns, ctime ns, inode) -> SHA-256, kept in `.helmet-cache/` at the project root
 * (outside dist/, never part of a build context). It only ever spares reading a file: the input
 * digest stays content-based, so a cache that is deleted, stale or copied from another machine
 * changes nothing but speed, and a corrupt cache file is ignored.
 *
 * The racy case is handled as git handles its index: a file modified within RACY_WINDOW_NS of the
 * moment it was hashed could change again within the same timestamp tick without its stat changing,
 * so such an entry is not kept, and the file is hashed again next time.
 */
import { type BigIntStats, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../output/atomic-write.js';

export const CACHE_DIR = '.helmet-cache';
const CACHE_FILE = 'stat-cache-v1.json';
/** Coarser than any file system's timestamp granularity that matters (FAT has 2 s). */
const RACY_WINDOW_NS = 2_000_000_000n;
/** Entries beyond this are dropped, oldest first, so the file stays small. */
const MAX_ENTRIES = 200_000;

/** size, mtime ns, ctime ns, inode, sha256 hex. */
type Entry = [number, string, string, string, string];

export interface FileHasher {
  /** The SHA-256 hex of the file at `abs`, whose lstat is `st`; `read` hashes its content. */
  hash(abs: string, st: BigIntStats, read: () => string): string;
}

export class StatCache implements FileHasher {
  private readonly entries: Map<string, Entry>;
  private changed = false;
  /** Files whose content was read this run (a warm no-op run reads none). */
  filesHashed = 0;

  private constructor(
    private readonly root: string,
    entries: Map<string, Entry>,
  ) {
    this.entries = entries;
  }

  /** The project's cache, or an empty one when it is missing, unreadable or not ours. */
  static open(root: string): StatCache {
    try {
      const data = JSON.parse(readFileSync(join(root, CACHE_DIR, CACHE_FILE), 'utf8')) as { version?: number; files?: Record<string, Entry> };
      if (data.version !== 1 || typeof data.files !== 'object' || data.files === null) return new StatCache(root, new Map());
      const entries = new Map<string, Entry>();
      for (const [path, e] of Object.entries(data.files)) if (isEntry(e)) entries.set(path, e);
      return new StatCache(root, entries);
    } catch {
      return new StatCache(root, new Map());
    }
  }

  hash(abs: string, st: BigIntStats, read: () => string): string {
    const key = relative(this.root, abs);
    const stat: Entry = [Number(st.size), String(st.mtimeNs), String(st.ctimeNs), String(st.ino), ''];
    const known = this.entries.get(key);
    if (known && known[0] === stat[0] && known[1] === stat[1] && known[2] === stat[2] && known[3] === stat[3]) return known[4];
    const startedNs = BigInt(Date.now()) * 1_000_000n;
    const digest = read();
    this.filesHashed++;
    // Kept only when the file was last changed well before it was read (see RACY_WINDOW_NS).
    const racy = st.mtimeNs > startedNs - RACY_WINDOW_NS || st.ctimeNs > startedNs - RACY_WINDOW_NS;
    if (racy) {
      if (this.entries.delete(key)) this.changed = true;
    } else {
      stat[4] = digest;
      this.entries.delete(key);
      this.entries.set(key, stat);
      this.changed = true;
    }
    return digest;
  }

  /** Write the cache back if anything changed; a cache that cannot be written only costs speed. */
  save(): void {
    if (!this.changed) return;
    const all = [...this.entries];
    const kept = all.slice(Math.max(0, all.length - MAX_ENTRIES));
    try {
      writeFileAtomic(join(this.root, CACHE_DIR, CACHE_FILE), JSON.stringify({ version: 1, files: Object.fromEntries(kept) }));
      writeFileAtomic(join(this.root, CACHE_DIR, '.gitignore'), '*\n');
      this.changed = false;
    } catch {
      // A read-only checkout: next time hashes again.
    }
  }
}

function isEntry(e: unknown): e is Entry {
  return Array.isArray(e) && e.length === 5 && typeof e[0] === 'number' && e.slice(1).every((x) => typeof x === 'string');
}
