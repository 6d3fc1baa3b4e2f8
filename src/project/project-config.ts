/**
 * `helmet-build.yaml` at the project root: where a repository keeps its component.yaml files (paths
 * and globs, nested as deep as it likes), build settings for a component.yaml that stays as its
 * repository wrote it, and where pipeline.yaml is. Without the file, components are
 * `components/<name>/component.yaml` and the pipeline is `pipeline.yaml`.
 *
 * The components found are named after their folders (`components/local/roc/component.yaml` is
 * `roc`); two folders of one name are refused, naming both files.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fdir } from 'fdir';
import picomatch from 'picomatch';
import { z } from 'zod';
import type { ConfigProblem } from '../errors.js';
import { addSchema, type BuildSpec, buildSpecSchema, platformsSchema } from './component-schema.js';
import { isInside } from './project-paths.js';
import { CONFIG_FILE, PIPELINE_FILE } from './project-root.js';
import { allowedKeysAt } from './schema-keys.js';
import { YamlSource } from './yaml-source.js';

const componentEntrySchema = z.union([
  z.string().min(1),
  buildSpecSchema.extend({
    /** A component.yaml, or the folder that holds it, relative to the root. */
    path: z.string().min(1),
  }),
]);

/** An image this project builds that no component.yaml describes: a base, an image shared by components. */
const imageEntrySchema = z.strictObject({
  /** Build context, relative to the root. */
  context: z.string().min(1),
  /** Relative to the context. @default Dockerfile */
  dockerfile: z.string().min(1).default('Dockerfile'),
  /** Build args; part of the input digest. */
  args: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  /** Target platform, e.g. linux/amd64; part of the input digest. */
  platform: z.string().optional(),
  platforms: platformsSchema.optional(),
  /** Stage of a multi-stage Dockerfile to build. */
  target: z.string().min(1).optional(),
  /** Network of RUN steps (host, none, …). */
  network: z.string().min(1).optional(),
  /** Folders merged into the context at a path (folders relative to the root), in order: a later folder's file wins, as a script's rsync left them; part of the input digest. */
  add: addSchema.optional(),
});

export type ImageEntry = z.infer<typeof imageEntrySchema>;

/** A build engine: its address as DOCKER_HOST writes it, the platforms it builds natively, and how many builds it takes at once. */
const engineEntrySchema = z.strictObject({
  host: z.string().regex(/^(unix|tcp|ssh):\/\/./, { message: 'must be an engine address: unix:///path, tcp://host:port or ssh://user@host' }),
  platforms: platformsSchema,
  /** @default 2 */
  builds: z.number().int().min(1).default(2),
});

export type EngineEntry = z.infer<typeof engineEntrySchema>;

/** An image name as FROM lines and `image:` lines write it, without tag: `ml-pipeline-local-base`, `quay.io/ibm/base`. */
const IMAGE_KEY = /^(?:[a-z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export const projectConfigSchema = z.strictObject({
  /** Paths or globs of component.yaml files (or their folders), each with optional build settings. @default components/<name>/component.yaml */
  components: z.array(componentEntrySchema).min(1).optional(),
  /** Images built here that no component.yaml builds, by the name FROM lines and `image:` lines use (without tag). */
  images: z.record(z.string().regex(IMAGE_KEY, { message: 'must be an image name without tag, e.g. ml-pipeline-local-base' }), imageEntrySchema).optional(),
  /** The pipeline file, relative to the root. @default pipeline.yaml */
  pipeline: z.string().min(1).optional(),
  /** The platforms of every image built here that names none of its own. @default the engine's own */
  platforms: platformsSchema.optional(),
  /** The engines builds are spread over. @default one: DOCKER_HOST's */
  engines: z.array(engineEntrySchema).min(1).optional(),
  /** Sign every built image a run pins, as cosign does, with this key (relative to the root; its password from COSIGN_PASSWORD). */
  sign: z.strictObject({ key: z.string().min(1) }).optional(),
});

export type ProjectConfig = z.infer<typeof projectConfigSchema>;

/** A component.yaml the project has. */
export interface FoundComponent {
  name: string;
  /** Absolute folder. */
  dir: string;
  /** Relative to the root. */
  file: string;
  /** Build settings from helmet-build.yaml, for a component.yaml kept as its repository wrote it. */
  build?: BuildSpec;
  /** Where helmet-build.yaml names it, for problems. */
  problemAt?: (message: string) => ConfigProblem;
}

/** An `images:` entry: built, pushed and pinned like a component, with no KFP spec. */
export interface FoundImage {
  /** The key: the name FROM lines and `image:` lines use. */
  name: string;
  entry: ImageEntry;
  problemAt: (message: string) => ConfigProblem;
}

export interface Discovery {
  components: FoundComponent[];
  images: FoundImage[];
  /** Relative to the root. */
  pipelineFile: string;
  /** helmet-build.yaml, when the project has one. */
  configFile?: string;
  /** Whether a glob found components (a new file under a globbed folder can add one). */
  globbed: boolean;
  /** `platforms:` of helmet-build.yaml: those of every image that names none of its own. */
  platforms?: string[];
  /** `engines:` of helmet-build.yaml. */
  engines?: EngineEntry[];
  /** `sign: {key}` of helmet-build.yaml, absolute. */
  signKey?: string;
  problems: ConfigProblem[];
}

const GLOB = /[*?[\]{}]/;
/** Folders a search for components never looks in: dependencies, version control, helmet-build's own output and cache. */
export const NEVER_WALKED = new Set(['node_modules', '.git', '.helmet-cache', 'dist']);

/** The project's component.yaml files and pipeline file. */
export function discoverComponents(root: string): Discovery {
  if (!existsSync(join(root, CONFIG_FILE)))
    return { components: defaultComponents(root), images: [], pipelineFile: PIPELINE_FILE, globbed: false, problems: [] };
  const { source, problems } = YamlSource.read(join(root, CONFIG_FILE), CONFIG_FILE);
  const base = { components: [], images: [], pipelineFile: PIPELINE_FILE, configFile: CONFIG_FILE, globbed: false };
  if (!source) return { ...base, problems };
  const { data: config, problems: invalid } = source.check(projectConfigSchema, source.toJS() ?? {}, (p) => allowedKeysAt(projectConfigSchema, p));
  if (!config) return { ...base, problems: invalid };
  const at = (path: (string | number)[], message: string): ConfigProblem => ({ file: CONFIG_FILE, ...source.locate(path), path: path.join('.'), message });
  const out: ConfigProblem[] = [];
  const pipelineFile = config.pipeline ?? PIPELINE_FILE;
  const pipelinePath = resolve(root, pipelineFile);
  if (pipelinePath === root || !isInside(root, pipelinePath)) out.push(at(['pipeline'], `must be a file inside the project (${pipelineFile})`));
  const images = Object.entries(config.images ?? {}).map(([name, entry]) => ({ name, entry, problemAt: (message: string) => at(['images', name], message) }));
  const projectWide = {
    ...(config.platforms ? { platforms: config.platforms } : {}),
    ...(config.engines ? { engines: config.engines } : {}),
    ...(config.sign ? { signKey: resolve(root, config.sign.key) } : {}),
  };
  if (!config.components) return { ...base, components: defaultComponents(root), images, pipelineFile, ...projectWide, problems: out };

  const found: FoundComponent[] = [];
  let globbed = false;
  config.components.forEach((entry, i) => {
    const where = typeof entry === 'string' ? ['components', i] : ['components', i, 'path'];
    const pattern = typeof entry === 'string' ? entry : entry.path;
    const { path: _path, ...build } = typeof entry === 'string' ? { path: '' } : entry;
    const problemAt = (message: string) => at(where, message);
    if (isAbsolute(pattern) || pattern.split('/').includes('..')) {
      out.push(problemAt(`must be a path inside the project, relative to its root (${pattern})`));
      return;
    }
    if (GLOB.test(pattern)) {
      if (typeof entry !== 'string') {
        out.push(problemAt(`a glob names many components: give build settings with a path to one component.yaml (${pattern})`));
        return;
      }
      globbed = true;
      const files = globComponentFiles(root, pattern);
      if (files.length === 0) out.push(problemAt(`matches no component.yaml (${pattern})`));
      for (const file of files) found.push(foundAt(root, file, undefined, problemAt));
      return;
    }
    const abs = resolve(root, pattern);
    const file = existsSync(abs) && statSync(abs).isDirectory() ? join(abs, 'component.yaml') : abs;
    if (!existsSync(file)) {
      out.push(problemAt(`no such file: ${relative(root, file)}`));
      return;
    }
    found.push(foundAt(root, file, typeof entry === 'string' ? undefined : (build as BuildSpec), problemAt));
  });
  return { components: uniqueByName(found, out), images, pipelineFile, configFile: CONFIG_FILE, globbed, ...projectWide, problems: out };
}

function foundAt(root: string, file: string, build: BuildSpec | undefined, problemAt: (message: string) => ConfigProblem): FoundComponent {
  const dir = dirname(file);
  return { name: basename(dir), dir, file: relative(root, file), ...(build ? { build } : {}), problemAt };
}

/** Each component.yaml once (a path and a glob may both name it); two folders of one name are refused. */
function uniqueByName(found: FoundComponent[], out: ConfigProblem[]): FoundComponent[] {
  const byName = new Map<string, FoundComponent>();
  const kept: FoundComponent[] = [];
  for (const c of found) {
    const other = byName.get(c.name);
    if (!other) {
      byName.set(c.name, c);
      kept.push(c);
    } else if (other.file !== c.file) {
      out.push(
        c.problemAt!(`${c.file} and ${other.file} are both named "${c.name}" (a component is named after its folder): rename one folder, or leave one out`),
      );
    } else if (c.build && !other.build) kept[kept.indexOf(other)] = c;
  }
  return kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function globComponentFiles(root: string, pattern: string): string[] {
  const walked = new fdir()
    .withRelativePaths()
    .exclude((name) => NEVER_WALKED.has(name))
    .filter((path) => basename(path) === 'component.yaml')
    // fdir's own matcher is picomatch with dot files matched; given here, the bundle leaves fdir's
    // load of it out of every run's start (see scripts/bundle.mjs).
    .withGlobFunction((patterns: string[]) => picomatch(patterns, { dot: true }))
    .glob(pattern.startsWith('./') ? pattern.slice(2) : pattern)
    .crawl(root)
    .sync();
  return walked.map((rel) => join(root, rel)).sort();
}

/** components/<name>/component.yaml, the layout without helmet-build.yaml. */
function defaultComponents(root: string): FoundComponent[] {
  const componentsDir = join(root, 'components');
  if (!existsSync(componentsDir)) return [];
  return readdirSync(componentsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(componentsDir, d.name, 'component.yaml')))
    .map((d) => d.name)
    .sort()
    .map((name) => ({ name, dir: join(componentsDir, name), file: join('components', name, 'component.yaml') }));
}
