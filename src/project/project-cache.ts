/**
 * The checked project, kept between runs in `.helmet-cache/` and used again while nothing the load
 * read has changed: a no-op run then reads no YAML and loads neither the YAML parser nor the schema
 * code (about 100 ms of a 4-component run).
 *
 * What the load depends on is the files it reads and the folders it lists: helmet-build.yaml (or its
 * absence), components/ and each of its folders (a component.yaml added or removed changes the
 * folder) — or, with helmet-build.yaml, the folders and component.yaml files it names —, the pipeline
 * file (or its absence), and each build's Dockerfile and context (the load checks that they exist,
 * inside the project, and reads FROM lines). A project found by a glob is not kept. The cache holds the stat of each (inode, size, mtime, ctime); one that
 * differs, a cache of another build of helmet-build, or a damaged file means a full load. As with the
 * stat cache, a file changed within RACY_WINDOW_MS of the load could change again without its stat
 * changing: such a project is not kept. A project that failed to load is never kept, so every
 * problem is reported on every run.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BUILD_ID, cacheFile, writeCacheFile } from '../fs/cache-dir.js';
import type { BuiltComponent, Component, Pipeline, PipelineStep, PrebuiltComponent, Project, ProjectSource } from './model.js';
import { CONFIG_FILE, PIPELINE_FILE } from './project-root.js';

const CACHE_FILE = 'project-v1.json';
/** As the stat cache's: coarser than any file system's timestamp granularity that matters. */
const RACY_WINDOW_MS = 2000;

export interface OpenProjectOptions {
  /** @default this build's identity; undefined keeps no cache */
  buildId?: string | undefined;
  /** The clock the racy window is measured on. @default Date.now */
  now?: () => number;
}

/** The project at `root`, from the cache when nothing it was read from has changed, else loaded and checked. */
export async function openProject(root: string, options: OpenProjectOptions = {}): Promise<Project> {
  const buildId = 'buildId' in options ? options.buildId : BUILD_ID;
  const cached = buildId ? readCachedProject(root, buildId) : undefined;
  if (cached) return cached;
  const { loadProject } = await import('./load-project.js');
  const project = loadProject(root);
  if (buildId) saveProject(project, buildId, (options.now ?? Date.now)());
  return project;
}

/** The paths a loaded project was read from (relative to the root), with their stats: what it depends on. */
type Watched = [path: string, stat: string][];

interface CacheFile {
  buildId: string;
  root: string;
  watched: Watched;
  project: StoredProject;
}

/** A project as JSON: components refer to their base (or the component whose image they name), and steps to their component, by name. */
interface StoredProject {
  source?: ProjectSource;
  components: ((Omit<BuiltComponent, 'base'> & { base?: string }) | (Omit<PrebuiltComponent, 'imageOf'> & { imageOf?: string }))[];
  pipeline?: Omit<Pipeline, 'steps'> & { steps: (Omit<PipelineStep, 'component'> & { component: string })[] };
  engines?: Project['engines'];
  signKey?: string;
}

function readCachedProject(root: string, buildId: string): Project | undefined {
  let cache: CacheFile;
  try {
    cache = JSON.parse(readFileSync(cacheFile(root, CACHE_FILE), 'utf8')) as CacheFile;
  } catch {
    return undefined;
  }
  if (cache?.buildId !== buildId || cache.root !== root || !Array.isArray(cache.watched)) return undefined;
  const now = watchedPaths(root, cache.project);
  if (!now || now.length !== cache.watched.length || now.some(([path, stat], i) => cache.watched[i]![0] !== path || cache.watched[i]![1] !== stat)) {
    return undefined;
  }
  return revive(root, cache.project);
}

/** Keeps the project for the next run; a cache that cannot be written costs only speed. */
function saveProject(project: Project, buildId: string, now: number): void {
  // A glob can find a component.yaml added anywhere below it: no stat tells, so such a project is loaded each run.
  if (project.source?.globbed) return;
  const stored = store(project);
  if (!jsonSafe(stored)) return;
  const watched = watchedPaths(project.root, stored, now - RACY_WINDOW_MS);
  if (!watched) return;
  try {
    writeCacheFile(project.root, CACHE_FILE, JSON.stringify({ buildId, root: project.root, watched, project: stored } satisfies CacheFile));
  } catch {
    // A read-only checkout or a full disk: the next run loads the files again.
  }
}

/**
 * Every path the load of `project` depended on, with its stat, in a fixed order; undefined when one
 * was changed after `notAfter` (the racy window), or when components/ cannot be listed.
 */
function watchedPaths(root: string, project: StoredProject, notAfter = Number.POSITIVE_INFINITY): Watched | undefined {
  // helmet-build.yaml, there or not: one added, edited or removed changes where the components are.
  const paths = [CONFIG_FILE];
  if (project.source?.configFile) {
    for (const c of project.components) paths.push(relative(root, c.dir), c.file);
  } else {
    paths.push('components');
    try {
      const folders = readdirSync(join(root, 'components'), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
      for (const name of folders) paths.push(`components/${name}`, `components/${name}/component.yaml`);
    } catch {
      return undefined;
    }
  }
  paths.push(project.source?.pipelineFile ?? PIPELINE_FILE);
  for (const c of project.components) {
    if (c.kind === 'built') paths.push(c.build.dockerfilePath, c.build.contextDir, ...(c.build.add ?? []).flatMap((a) => a.from));
  }
  const watched: Watched = [];
  for (const path of paths) {
    const stat = statSync(path.startsWith('/') ? path : join(root, path), { throwIfNoEntry: false, bigint: false });
    if (stat && (stat.mtimeMs > notAfter || stat.ctimeMs > notAfter)) return undefined;
    watched.push([path, stat ? `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}` : 'absent']);
  }
  return watched;
}

function store(project: Project): StoredProject {
  return {
    ...(project.source ? { source: project.source } : {}),
    components: project.components.map((c) => (c.kind === 'built' ? { ...c, base: c.base?.name } : { ...c, imageOf: c.imageOf?.name })),
    ...(project.pipeline ? { pipeline: { ...project.pipeline, steps: project.pipeline.steps.map((s) => ({ ...s, component: s.component.name })) } } : {}),
    ...(project.engines ? { engines: project.engines } : {}),
    ...(project.signKey ? { signKey: project.signKey } : {}),
  };
}

function revive(root: string, stored: StoredProject): Project {
  const byName = new Map<string, Component>();
  for (const c of stored.components) {
    if (c.kind === 'prebuilt') {
      const { imageOf: _name, ...rest } = c;
      byName.set(c.name, rest);
    } else {
      const { base: _name, ...rest } = c;
      byName.set(c.name, rest);
    }
  }
  for (const c of stored.components) {
    const component = byName.get(c.name)!;
    const made = c.kind === 'built' ? c.base : c.imageOf;
    const linked = made ? byName.get(made) : undefined;
    if (linked?.kind !== 'built') continue;
    if (component.kind === 'built') component.base = linked;
    else component.imageOf = linked;
  }
  const pipeline = stored.pipeline && { ...stored.pipeline, steps: stored.pipeline.steps.map((s) => ({ ...s, component: byName.get(s.component)! })) };
  return {
    root,
    ...(stored.source ? { source: stored.source } : {}),
    components: stored.components.map((c) => byName.get(c.name)!),
    ...(pipeline ? { pipeline } : {}),
    ...(stored.engines ? { engines: stored.engines } : {}),
    ...(stored.signKey ? { signKey: stored.signKey } : {}),
  };
}

/** Whether JSON keeps `value` as it is: plain objects and arrays, strings, finite numbers, booleans, null. */
function jsonSafe(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => v !== undefined && jsonSafe(v));
  if (typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value as Record<string, unknown>).every((v) => v === undefined || jsonSafe(v));
}
