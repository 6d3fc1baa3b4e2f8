/**
 * The loaded project: every file read, validated and cross-referenced. Whatever holds one of these
 * can build, emit or run without meeting bad input: every exit-2 problem was found by `loadProject`.
 */
import type { ComponentFile, TypeSpec } from './component-schema.js';
import type { StepResources } from './pipeline-schema.js';

export type ParameterType = 'STRING' | 'NUMBER_INTEGER' | 'NUMBER_DOUBLE' | 'BOOLEAN' | 'LIST' | 'STRUCT';

import type { TypedValue } from '../model/typed-value.js';

export type { TypedValue } from '../model/typed-value.js';

interface ComponentCommon {
  /** Folder name under components/; the name users type (`helmet-build build train`). */
  name: string;
  /** Absolute path of the component folder. */
  dir: string;
  /** Path of its component.yaml relative to the project root, for messages. */
  file: string;
  /** The KFP v1 spec as written (with `build:` for built components). */
  spec: ComponentFile;
}

export interface BuildSettings {
  /** Repository name under the push target, e.g. helmet-train. */
  image: string;
  /** Where the build settings come from: the component.yaml's `build:`, its entry in helmet-build.yaml, or a Dockerfile beside it alone. */
  origin: 'build-section' | 'project-file' | 'dockerfile-beside';
  /** Absolute paths. */
  contextDir: string;
  dockerfilePath: string;
  /** Build args from component.yaml. */
  args: Record<string, string>;
  /** Platforms to build for (`build.platforms`, or `build.platform` alone, or the project's `platforms:`), sorted; none: the engine's own. */
  platforms?: string[];
  /** Stage of a multi-stage Dockerfile. */
  target?: string;
  /** Network of RUN steps. */
  network?: string;
  /** Ids of the build secrets the build needs (`build.secrets`). */
  secrets: string[];
  /** Ids of the SSH agents the build needs (`build.ssh`). */
  ssh: string[];
  /** Folders merged into the context (`add:`), in order. */
  add?: ContextAdditions;
}

/** Folders merged into a build context at a path (`at`, `/`-separated, relative to the context), from absolute folders, in order. */
export type ContextAdditions = { at: string; from: string[] }[];

/** A component whose image helmet-build builds. */
export interface BuiltComponent extends ComponentCommon {
  kind: 'built';
  build: BuildSettings;
  /** The component whose image this one starts from (passed as BASE_IMAGE). */
  base?: BuiltComponent;
  /** An `images:` entry of helmet-build.yaml: built and pinned like a component, but no KFP spec is written for it. */
  imageOnly?: true;
  /** FROM lines (1-based) of its Dockerfile that name the base's image: built on the image made for it in this run. */
  baseFromLines?: number[];
}

/** A component that names an existing image (no `build:`). */
export interface PrebuiltComponent extends ComponentCommon {
  kind: 'prebuilt';
  image: string;
  /**
   * The built component (or `images:` entry) whose image its `image:` line names, tag aside: it is
   * pinned to the image this run makes or finds for it, never to whatever the tag points at.
   */
  imageOf?: BuiltComponent;
}

export type Component = BuiltComponent | PrebuiltComponent;

/** A KFP artifact type: `system.Dataset`, `system.Model`, … (`system.Artifact` for any other). */
export interface ArtifactType {
  schemaTitle: string;
  schemaVersion: string;
}

/** A command-line item with its placeholders read once, for emission and for local runs. */
export type CommandItem =
  | { kind: 'literal'; text: string }
  | { kind: 'input'; input: string }
  /** The path of an artifact input (inputPath), or its URI (inputUri). */
  | { kind: 'input-file'; input: string; as: 'path' | 'uri' }
  /** Where to write an output: an artifact's path (or URI), or the file of a small value (a parameter output). */
  | { kind: 'output-file'; output: string; as: 'path' | 'uri' | 'parameter' }
  /** The whole executor input as JSON (KFP's `{{$}}`). */
  | { kind: 'executor-input' }
  | { kind: 'concat'; parts: CommandItem[] }
  | { kind: 'if-present'; input: string; then: CommandItem[]; else: CommandItem[] };

export interface StepInput {
  /** The component's input name. */
  name: string;
  /** A value on the command line, or a file. */
  kind: 'parameter' | 'artifact';
  /** For parameters. */
  type: ParameterType;
  /** For artifacts. */
  artifactType?: ArtifactType;
  description?: string;
  default?: TypedValue;
  optional: boolean;
}

/** A component output as the pipeline sees it: a file (artifact), or a small value written to a file (parameter). */
export interface StepOutput {
  name: string;
  kind: 'parameter' | 'artifact';
  type: ParameterType;
  artifactType?: ArtifactType;
}

export type StepArgument =
  | { kind: 'parameter'; parameter: string }
  | { kind: 'constant'; value: TypedValue }
  /** Another step's output. */
  | { kind: 'task-output'; step: string; output: string };

export interface PipelineStep {
  name: string;
  component: Component;
  /** Steps this one runs after. */
  after: string[];
  inputs: StepInput[];
  outputs: StepOutput[];
  /** Arguments by input name. */
  args: Record<string, StepArgument>;
  command?: CommandItem[];
  commandArgs?: CommandItem[];
  env: { name: string; value: CommandItem }[];
  resources?: StepResources;
  /** Kubernetes Secrets the cluster pulls the image with: the pipeline's, then the step's own. */
  imagePullSecrets: string[];
}

export interface PipelineParameter {
  name: string;
  type: ParameterType;
  default?: TypedValue;
  description?: string;
}

export interface PipelineVolume {
  name: string;
  size: string;
  accessMode: string;
  storageClass?: string;
  mountPath: string;
}

export interface Pipeline {
  file: string;
  name: string;
  description?: string;
  parameters: PipelineParameter[];
  volume?: PipelineVolume;
  /** Dependencies first (stable: file order among independent steps). */
  steps: PipelineStep[];
}

/** Where the project's files were found: what a cached copy of it depends on besides them. */
export interface ProjectSource {
  /** The pipeline file, relative to the root (whether or not it exists). */
  pipelineFile: string;
  /** helmet-build.yaml, when the project has one. */
  configFile?: string;
  /** Whether a glob found components: a file added under a globbed folder can add one. */
  globbed: boolean;
}

export interface Project {
  root: string;
  /** @default components/<name>/component.yaml and pipeline.yaml, no helmet-build.yaml */
  source?: ProjectSource;
  /** Bases before the components that start from them; otherwise by name. */
  components: Component[];
  pipeline?: Pipeline;
  /** `engines:` of helmet-build.yaml: the engines builds are spread over; without it, DOCKER_HOST's. */
  engines?: BuildEngineEntry[];
  /** `sign: {key}` of helmet-build.yaml: the key every run that publishes signs with (absolute path). */
  signKey?: string;
}

/** An engine of `engines:`: its address (as DOCKER_HOST writes it), its native platforms, its build slots. */
export interface BuildEngineEntry {
  host: string;
  platforms: string[];
  builds: number;
}

/** KFP's v1 type names of parameters (kfp.dsl.types.type_utils.PARAMETER_TYPES_MAPPING). */
const PARAMETER_TYPES: Record<string, ParameterType> = {
  integer: 'NUMBER_INTEGER',
  int: 'NUMBER_INTEGER',
  double: 'NUMBER_DOUBLE',
  float: 'NUMBER_DOUBLE',
  string: 'STRING',
  str: 'STRING',
  text: 'STRING',
  bool: 'BOOLEAN',
  boolean: 'BOOLEAN',
  dict: 'STRUCT',
  list: 'LIST',
  jsonobject: 'STRUCT',
  jsonarray: 'LIST',
};

/** KFP's artifact classes by v1 type name; any other type (or none) is a plain `system.Artifact`. */
const ARTIFACT_TITLES: Record<string, string> = {
  artifact: 'system.Artifact',
  model: 'system.Model',
  dataset: 'system.Dataset',
  metrics: 'system.Metrics',
  classificationmetrics: 'system.ClassificationMetrics',
  slicedclassificationmetrics: 'system.SlicedClassificationMetrics',
  html: 'system.HTML',
  markdown: 'system.Markdown',
};

/** `List[str]` -> `List`, as KFP reads the outer name of a generic type. */
function outerName(type: TypeSpec | undefined): string | undefined {
  return typeof type === 'string' ? type.replace(/\[.*$/s, '') : undefined;
}

/**
 * Whether a v1 input or output is a parameter or an artifact, as KFP's v2 SDK decides when it loads
 * a v1 component (kfp.dsl.structures.ComponentSpec.from_v1_component_spec): by its type alone —
 * a parameter type name is a parameter, anything else (no type, an object type, `CSV`, …) a file.
 */
export function ioKind(type: TypeSpec | undefined): { kind: 'parameter'; type: ParameterType } | { kind: 'artifact'; artifactType: ArtifactType } {
  const name = outerName(type);
  const parameter = name ? PARAMETER_TYPES[name.toLowerCase()] : undefined;
  if (parameter) return { kind: 'parameter', type: parameter };
  const title = name && /^google\.[A-Za-z]+$/.test(name) ? name : (name && ARTIFACT_TITLES[name.toLowerCase()]) || 'system.Artifact';
  return { kind: 'artifact', artifactType: { schemaTitle: title, schemaVersion: '0.0.1' } };
}

/** The parameter type of a v1 type; artifacts and untyped values are carried as strings. */
export function parameterType(type: TypeSpec | undefined): ParameterType {
  const io = ioKind(type);
  return io.kind === 'parameter' ? io.type : 'STRING';
}

/** Read a value as its parameter type; an error says what was expected. */
export function typedValue(value: string | number | boolean, type: ParameterType): { value: TypedValue } | { error: string } {
  const s = String(value);
  switch (type) {
    case 'NUMBER_INTEGER':
    case 'NUMBER_DOUBLE': {
      const n = Number(s);
      if (s.trim() === '' || !Number.isFinite(n) || (type === 'NUMBER_INTEGER' && !Number.isInteger(n))) {
        return { error: `"${s}" is not ${type === 'NUMBER_INTEGER' ? 'an integer' : 'a number'}` };
      }
      return { value: n };
    }
    case 'BOOLEAN':
      if (!['true', 'false'].includes(s.toLowerCase())) return { error: `"${s}" is not true or false` };
      return { value: s.toLowerCase() === 'true' };
    case 'LIST':
    case 'STRUCT': {
      if (typeof value !== 'string') return { error: `${s} is not a JSON ${type === 'LIST' ? 'array' : 'object'}` };
      try {
        const parsed: unknown = JSON.parse(value);
        const ok = type === 'LIST' ? Array.isArray(parsed) : parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
        if (ok) return { value: parsed as TypedValue };
      } catch {
        // reported below
      }
      return { error: `"${s}" is not a JSON ${type === 'LIST' ? 'array' : 'object'}` };
    }
    default:
      return { value: s };
  }
}
