import { type Dirent, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { type FileHasher, sha256, sha256OfFile } from './hashing.js';
import { dockerignoreMatcher } from './verified-reads.js';

/** A FIFO is sent as one (no content), as docker build sends it. */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'fifo';

export interface ContextEntry {
  /** Path relative to the context root, with forward slashes. */
  path: string;
  kind: EntryKind;
  /** Permission bits (mode & 0o7777). */
  mode: number;
  size: number;
  /** SHA-256 hex of the content (files) or of the link target (symlinks); '' for folders. */
  sha256: string;
  /** Symlink target. */
  linkTarget?: string;
  /** Absolute path it is read from, when not its place under the context root (`add:`). */
  source?: string;
}

export interface BuildContext {
  root: string;
  /** Sorted by path. Exactly what the engine receives (plus the Dockerfile when it lives outside). */
  entries: ContextEntry[];
  /** Dockerfile location inside the context, when it is inside; otherwise undefined. */
  dockerfileInContext?: string;
  dockerfileContent: Buffer;
  /** Raw .dockerignore content, when the context has one (or the Dockerfile, beside it). */
  dockerignore?: string;
  /** The `<Dockerfile>.dockerignore` whose patterns apply in place of the context's `.dockerignore`, when there is one. */
  dockerignorePath?: string;
  /** Folders made of other folders than their place under the root (`add:`): what their listing is read from. */
  folderSources?: Map<string, string[]>;
  /**
   * Entries sent only because the engine reads them (`.dockerignore`, the Dockerfile) although
   * `.dockerignore` excludes them: the classic engine drops them before COPY sees the context.
   */
  readOnlyByEngine: string[];
  bytes: number;
  /** Whether a path (relative, `/`-separated) would be part of this context: not excluded, not ignored. */
  admits(rel: string): boolean;
}

/** Folders merged into a context at a path, in order (a later folder's file wins), as a build script's rsync would have left them. */
export interface ContextAddition {
  /** Where in the context, `/`-separated, relative, never the root. */
  at: string;
  /** Absolute folders. */
  from: string[];
}

export interface ReadContextOptions {
  /** Where file hashes come from: a stat cache, or (default) the content read every time. */
  hasher?: FileHasher;
  /** Folders never part of a context (absolute): helmet-build's own cache. */
  exclude?: string[];
  /** Folders merged into the context (`add:`). */
  add?: ContextAddition[];
}

/**
 * Walk a build context and keep what `docker build` would send: `.dockerignore` applied with Docker's
 * own matching rules; the Dockerfile and `.dockerignore` always sent (the engine drops them when
 * `.dockerignore` lists them, as the docker CLI relies on).
 *
 * A `<Dockerfile>.dockerignore` beside the Dockerfile takes the place of the context's `.dockerignore`,
 * as docker buildx does: its patterns decide, and the context's `.dockerignore` is a file like any other.
 */
export function readBuildContext(contextDir: string, dockerfilePath: string, options: ReadContextOptions = {}): BuildContext {
  const root = resolve(contextDir);
  const excluded = (options.exclude ?? [])
    .map((d) => relative(root, d))
    .filter((r) => r !== '' && !r.startsWith('..') && !r.startsWith(sep))
    .map(toSlash);
  const ownIgnore = `${dockerfilePath}.dockerignore`;
  const ignorePath = existsSync(ownIgnore) ? ownIgnore : join(root, '.dockerignore');
  const ignoreFromDockerfile = ignorePath === ownIgnore;
  const isExcluded = (rel: string) => excluded.some((x) => rel === x || rel.startsWith(`${x}/`));
  const ignoreText = existsSync(ignorePath) ? readFileSync(ignorePath, 'utf8') : undefined;
  const patterns = parseDockerignore(ignoreText ?? '');
  const matcher = dockerignoreMatcher(patterns);
  const hasExceptions = patterns.some((p) => p.startsWith('!'));

  const dfRel = relative(root, resolve(dockerfilePath));
  const dockerfileInContext = dfRel.startsWith('..') || dfRel.startsWith(sep) ? undefined : toSlash(dfRel);
  const alwaysSent = new Set([...(ignoreFromDockerfile ? [] : ['.dockerignore']), ...(dockerfileInContext ? [dockerfileInContext] : [])]);
  const keep = (rel: string) => !isExcluded(rel) && (patterns.length === 0 || alwaysSent.has(rel) || !matcher.ignores(rel));
  // An excluded folder can be skipped whole only when no `!` pattern could bring something back in it.
  const skipFolder = (rel: string) =>
    isExcluded(rel) || (!hasExceptions && rel !== '' && matcher.ignores(rel) && ![...alwaysSent].some((a) => a.startsWith(`${rel}/`)));

  const byPath = new Map(walkFolder(root, '', skipFolder, keep, options.hasher).map((e) => [e.path, e]));
  const folderSources = mergeAdditions(byPath, root, options.add ?? [], (from, at) => walkFolder(from, `${at}/`, skipFolder, keep, options.hasher));

  const entries = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  let bytes = 0;
  for (const e of entries) bytes += e.size;
  return {
    root,
    entries,
    dockerfileInContext,
    dockerfileContent: readFileSync(dockerfilePath),
    dockerignore: ignoreText,
    ...(ignoreFromDockerfile ? { dockerignorePath: ignorePath } : {}),
    readOnlyByEngine: [...alwaysSent].filter((p) => matcher.ignores(p) && byPath.has(p)),
    bytes,
    admits: keep,
    ...(folderSources.size ? { folderSources } : {}),
  };
}

/**
 * `add:` into the walked entries, in order: the folders on the way to each place are made (as
 * `mkdir -p` before the copy), a later folder's entry replaces an earlier one. Returns what each
 * merged folder's listing is read from.
 */
function mergeAdditions(
  byPath: Map<string, ContextEntry>,
  root: string,
  additions: ContextAddition[],
  walk: (from: string, at: string) => ContextEntry[],
): Map<string, string[]> {
  const folderSources = new Map<string, string[]>();
  const sourcesOf = (path: string): string[] => {
    const had = folderSources.get(path);
    if (had) return had;
    const entry = byPath.get(path);
    return entry?.kind === 'dir' ? [entry.source ?? join(root, path)] : [];
  };
  for (const addition of additions) {
    const parts = addition.at.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const path = parts.slice(0, i).join('/');
      folderSources.set(path, sourcesOf(path));
      if (byPath.get(path)?.kind !== 'dir') byPath.set(path, { path, kind: 'dir', mode: 0o755, size: 0, sha256: '' });
    }
    for (const from of addition.from) {
      folderSources.set(addition.at, [...sourcesOf(addition.at), from]);
      for (const e of walk(from, addition.at)) {
        if (e.kind === 'dir') folderSources.set(e.path, [...sourcesOf(e.path), e.source!]);
        else folderSources.delete(e.path);
        byPath.set(e.path, e);
      }
    }
  }
  return folderSources;
}

/**
 * The entries of one folder the context takes, under `prefix`: `skipFolder` and `keep` decide by the
 * path in the context. Entries of a folder merged in from elsewhere carry the path they are read from.
 */
function walkFolder(
  dir: string,
  prefix: string,
  skipFolder: (rel: string) => boolean,
  keep: (rel: string) => boolean,
  hasher: FileHasher | undefined,
): ContextEntry[] {
  const found = listFolder(dir, '', (rel) => skipFolder(prefix + rel));
  const merged = prefix !== '';
  const entries: ContextEntry[] = [];
  for (const rel of found) {
    const path = prefix + rel;
    if (!keep(path)) continue;
    const abs = join(dir, rel);
    const source = merged ? { source: abs } : {};
    const st = lstatSync(abs);
    const mode = st.mode & 0o7777;
    if (st.isSymbolicLink()) {
      const target = readlinkSync(abs);
      entries.push({ path, kind: 'symlink', mode, size: 0, sha256: sha256(target), linkTarget: target, ...source });
    } else if (st.isDirectory()) {
      entries.push({ path, kind: 'dir', mode, size: 0, sha256: '', ...source });
    } else if (st.isFile()) {
      const size = st.size;
      // Small files whole (few syscalls); large ones in chunks, so memory stays flat whatever their size.
      const read = () => sha256OfFile(abs, size);
      const digest = hasher ? hasher.hash(abs, st, read) : read();
      entries.push({ path, kind: 'file', mode, size, sha256: digest, ...source });
    } else if (st.isFIFO()) {
      entries.push({ path, kind: 'fifo', mode, size: 0, sha256: '', ...source });
    }
    // Sockets and devices are never sent, as with docker build.
  }
  return entries;
}

/**
 * The paths under `dir` (relative, with forward slashes) of the folders, files, symlinks and FIFOs a
 * context can hold, folders `skipFolder` names left out whole. One readdir per folder (its entry
 * types come with it); a folder that cannot be read is left out. Sockets and devices are never
 * sent, as with docker build.
 */
function listFolder(dir: string, rel: string, skipFolder: (rel: string) => boolean, out: string[] = []): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(rel ? join(dir, rel) : dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const d of entries) {
    const path = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) {
      if (skipFolder(path)) continue;
      out.push(path);
      listFolder(dir, path, skipFolder, out);
    } else if (d.isFile() || d.isSymbolicLink() || d.isFIFO()) out.push(path);
  }
  return out;
}

/** Where an entry is read from: its place in the context, or the file a merged folder or the Dockerfile's ignore file holds. */
export function entrySource(ctx: BuildContext, entry: ContextEntry): string {
  return entry.source ?? join(ctx.root, entry.path);
}

/** The folders whose listing makes a folder of the context (several where `add:` merges folders). */
export function folderSourcesOf(ctx: BuildContext, path: string): string[] {
  return ctx.folderSources?.get(path) ?? [join(ctx.root, path)];
}

/** Lines of a .dockerignore: comments and blank lines dropped, whitespace trimmed (as Docker does). */
function parseDockerignore(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

function toSlash(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}
