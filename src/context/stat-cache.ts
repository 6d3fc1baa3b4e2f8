/**
 * A stat cache for context hashing, so that a run over unchanged files reads no file contents: per
 * file, (size, mtime, ctime, inode) -> SHA-256, kept in `.helmet-cache/` at the project root
 * (outside dist/, never part of a build context). It only ever spares reading a file: the input
 * digest stays content-based, so a cache that is deleted, stale or copied from another machine
 * changes nothing but speed, and a corrupt cache file is ignored.
 *
 * The racy case is handled as git handles its index: a file modified within RACY_WINDOW_MS of the
 * moment it was hashed could change again within the same timestamp tick without its stat changing,
 * so such an entry is not kept, and the file is hashed again next time.
 */
import { readFileSync, type Stats } from 'node:fs';
import { relative, sep } from 'node:path';
import { CACHE_DIR, cacheFile, writeCacheFile } from '../fs/cache-dir.js';
import { type FileHasher, sha256 } from './hashing.js';

export { CACHE_DIR };

const CACHE_FILE = 'stat-cache';
/** First line of the cache file: its format (then a checksum of the rest). */
const HEADER = 'helmet-build stat cache v3';
/** Coarser than any file system's timestamp granularity that matters (FAT has 2 s). */
const RACY_WINDOW_MS = 2000;
/** Entries beyond this are dropped, oldest first, so the file stays small. */
const MAX_ENTRIES = 200_000;

/**
 * "size mtime ctime inode sha256" in one string (cheaper to read back than an array per file);
 * times in milliseconds with the sub-millisecond part the file system keeps.
 */
type Entry = string;

export class StatCache implements FileHasher {
  private readonly entries: Map<string, Entry>;
  private changed = false;
  /** Files whose content was read this run (a warm no-op run reads none). */
  filesHashed = 0;

  private readonly prefix: string;

  private constructor(
    private readonly root: string,
    entries: Map<string, Entry>,
  ) {
    this.entries = entries;
    this.prefix = root.endsWith(sep) ? root : root + sep;
  }

  /** The project's cache, or an empty one when it is missing, unreadable or not ours. */
  static open(root: string): StatCache {
    const entries = new Map<string, Entry>();
    let text: string;
    try {
      text = readFileSync(cacheFile(root, CACHE_FILE), 'utf8');
    } catch {
      return new StatCache(root, entries);
    }
    // The format and a checksum of the rest, then a line per file, "path<TAB>entry" (quicker to read
    // back than JSON). A damaged file is ignored whole; a malformed line never matches a stat (see hash).
    const newline = text.indexOf('\n');
    const body = text.slice(newline + 1);
    if (newline < 0 || text.slice(0, newline) !== `${HEADER} ${sha256(body)}`) return new StatCache(root, entries);
    const lines = body.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const tab = line.indexOf('\t');
      if (tab > 0) entries.set(line.slice(0, tab), line.slice(tab + 1));
    }
    return new StatCache(root, entries);
  }

  hash(abs: string, st: Stats, read: () => string): string {
    // Contexts lie inside the project: a slice is the relative path, without path.relative's cost.
    const key = abs.startsWith(this.prefix) ? abs.slice(this.prefix.length) : relative(this.root, abs);
    const stat = `${st.size} ${st.mtimeMs} ${st.ctimeMs} ${st.ino} `;
    const known = this.entries.get(key);
    if (known !== undefined && known.length === stat.length + 64 && known.startsWith(stat)) return known.slice(stat.length);
    const started = Date.now();
    const digest = read();
    this.filesHashed++;
    // Kept only when the file was last changed well before it was read (see RACY_WINDOW_MS).
    const racy = st.mtimeMs > started - RACY_WINDOW_MS || st.ctimeMs > started - RACY_WINDOW_MS;
    if (racy) {
      if (this.entries.delete(key)) this.changed = true;
    } else {
      this.entries.delete(key);
      this.entries.set(key, stat + digest);
      this.changed = true;
    }
    return digest;
  }

  /** Writes the cache when it changed; a cache that cannot be written costs only speed, so the failure is returned, not thrown. */
  save(): { message: string } | undefined {
    if (!this.changed) return undefined;
    const all = [...this.entries];
    const kept = all.slice(Math.max(0, all.length - MAX_ENTRIES));
    try {
      const body = kept.map(([path, entry]) => `${path}\t${entry}`).join('\n');
      writeCacheFile(this.root, CACHE_FILE, `${HEADER} ${sha256(body)}\n${body}`);
      this.changed = false;
      return undefined;
    } catch (e) {
      // A read-only checkout or a full disk: the next run hashes again.
      return { message: e instanceof Error ? e.message : String(e) };
    }
  }
}
