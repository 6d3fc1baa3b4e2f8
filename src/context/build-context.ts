import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { Ignore } from '@balena/dockerignore';
import * as dockerignoreModule from '@balena/dockerignore';
import { fdir } from 'fdir';
import { type FileHasher, sha256, sha256OfFile } from './hashing.js';

// @balena/dockerignore is CommonJS but its types declare `export default`: take whichever is callable.
type DockerignoreFactory = (options?: { ignorecase?: boolean }) => Ignore;
const dockerignore: DockerignoreFactory =
  (dockerignoreModule as unknown as { default?: DockerignoreFactory }).default ?? (dockerignoreModule as unknown as DockerignoreFactory);

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
}

export interface BuildContext {
  root: string;
  /** Sorted by path. Exactly what the engine receives (plus the Dockerfile when it lives outside). */
  entries: ContextEntry[];
  /** Dockerfile location inside the context, when it is inside; otherwise undefined. */
  dockerfileInContext?: string;
  dockerfileContent: Buffer;
  /** Raw .dockerignore content, when the context has one. */
  dockerignore?: string;
  /**
   * Entries sent only because the engine reads them (`.dockerignore`, the Dockerfile) although
   * `.dockerignore` excludes them: the classic engine drops them before COPY sees the context.
   */
  readOnlyByEngine: string[];
  bytes: number;
  /** Whether a path (relative, `/`-separated) would be part of this context: not excluded, not ignored. */
  admits(rel: string): boolean;
}

/**
 * Walk a build context and keep what `docker build` would send: `.dockerignore` applied with Docker's
 * own matching rules; the Dockerfile and `.dockerignore` always sent (the engine drops them when
 * `.dockerignore` lists them, as the docker CLI relies on).
 */
export interface ReadContextOptions {
  /** Where file hashes come from: a stat cache, or (default) the content read every time. */
  hasher?: FileHasher;
  /** Folders never part of a context (absolute): helmet-build's own cache. */
  exclude?: string[];
}

export function readBuildContext(contextDir: string, dockerfilePath: string, options: ReadContextOptions = {}): BuildContext {
  const root = resolve(contextDir);
  const excluded = (options.exclude ?? [])
    .map((d) => relative(root, d))
    .filter((r) => r !== '' && !r.startsWith('..') && !r.startsWith(sep))
    .map(toSlash);
  const isExcluded = (rel: string) => excluded.some((x) => rel === x || rel.startsWith(`${x}/`));
  const ignorePath = join(root, '.dockerignore');
  const ignoreText = existsSync(ignorePath) ? readFileSync(ignorePath, 'utf8') : undefined;
  const patterns = parseDockerignore(ignoreText ?? '');
  const matcher = dockerignore({ ignorecase: false }).add(patterns);
  const hasExceptions = patterns.some((p) => p.startsWith('!'));

  const dfRel = relative(root, resolve(dockerfilePath));
  const dockerfileInContext = dfRel.startsWith('..') || dfRel.startsWith(sep) ? undefined : toSlash(dfRel);
  const alwaysSent = new Set(['.dockerignore', ...(dockerfileInContext ? [dockerfileInContext] : [])]);
  const keep = (rel: string) => !isExcluded(rel) && (patterns.length === 0 || alwaysSent.has(rel) || !matcher.ignores(rel));

  const found = new fdir()
    .withRelativePaths()
    .withDirs()
    // An excluded folder can be skipped whole only when no `!` pattern could bring something back in it.
    .exclude((_name, dirPath) => {
      const rel = toSlash(relative(root, dirPath));
      if (isExcluded(rel)) return true;
      if (hasExceptions) return false;
      return rel !== '' && matcher.ignores(rel) && ![...alwaysSent].some((a) => a.startsWith(`${rel}/`));
    })
    .crawl(root)
    .sync();

  // fdir lists no FIFOs: the folders it walked are read again for them.
  const fifos: string[] = [];
  for (const raw of found) {
    if (raw !== '.' && !raw.endsWith('/') && raw !== '') continue;
    const dir = toSlash(raw).replace(/\/$/, '').replace(/^\.$/, '');
    for (const d of readdirSync(join(root, dir), { withFileTypes: true })) if (d.isFIFO()) fifos.push(dir ? `${dir}/${d.name}` : d.name);
  }

  const entries: ContextEntry[] = [];
  let bytes = 0;
  for (const raw of [...found, ...fifos]) {
    const rel = toSlash(raw).replace(/\/$/, '');
    if (rel === '' || rel === '.' || !keep(rel)) continue;
    const abs = join(root, rel);
    const st = lstatSync(abs);
    const mode = st.mode & 0o7777;
    if (st.isSymbolicLink()) {
      const target = readlinkSync(abs);
      entries.push({ path: rel, kind: 'symlink', mode, size: 0, sha256: sha256(target), linkTarget: target });
    } else if (st.isDirectory()) {
      entries.push({ path: rel, kind: 'dir', mode, size: 0, sha256: '' });
    } else if (st.isFile()) {
      const size = st.size;
      // Small files whole (few syscalls); large ones in chunks, so memory stays flat whatever their size.
      const read = () => sha256OfFile(abs, size);
      const digest = options.hasher ? options.hasher.hash(abs, st, read) : read();
      bytes += size;
      entries.push({ path: rel, kind: 'file', mode, size, sha256: digest });
    } else if (st.isFIFO()) {
      entries.push({ path: rel, kind: 'fifo', mode, size: 0, sha256: '' });
    }
    // Sockets and devices are never sent, as with docker build.
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    root,
    entries,
    dockerfileInContext,
    dockerfileContent: readFileSync(dockerfilePath),
    dockerignore: ignoreText,
    readOnlyByEngine: [...alwaysSent].filter((p) => matcher.ignores(p) && entries.some((e) => e.path === p)),
    bytes,
    admits: keep,
  };
}

/** Lines of a .dockerignore: comments and blank lines dropped, whitespace trimmed (as Docker does). */
export function parseDockerignore(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

function toSlash(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}
