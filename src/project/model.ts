/**
 * The loaded project: every file read, validated and cross-referenced. Whatever holds one of these
 * can build, emit or run without meeting bad input: every exit-2 problem was found by `loadProject`.
 */
import type { ComponentFile, TypeSpec } from './component-schema.js';
import type { StepResources } from './pipeline-schema.js';

export type ParameterType = 'STRING' | 'NUMBER_INTEGER' | 'NUMBER_DOUBLE' | 'BOOLEAN' | 'LIST' | 'STRUCT';
/** A value of a parameter type: "4" read as 4 for an integer. */
export type TypedValue = string | number | boolean | unknown[] | Record<string, unknown>;

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
  /** Absolute paths. */
  contextDir: string;
  dockerfilePath: string;
  /** Build args from component.yaml. */
  args: Record<string, string>;
  platform?: string;
  /** Stage of a multi-stage Dockerfile. */
  target?: string;
  /** Network of RUN steps. */
  network?: string;
}

/** A component whose image helmet-build builds. */
export interface BuiltComponent extends ComponentCommon {
  kind: 'built';
  build: BuildSettings;
  /** The component whose image this one starts from (passed as BASE_IMAGE). */
  base?: BuiltComponent;
}

/** A component that names an existing image (no `build:`). */
export interface PrebuiltComponent extends ComponentCommon {
  kind: 'prebuilt';
  image: string;
}

export type Component = BuiltComponent | PrebuiltComponent;

/** A command-line item with its placeholders read once, for emission and for local runs. */
export type CommandItem =
  | { kind: 'literal'; text: string }
  | { kind: 'input'; input: string }
  | { kind: 'concat'; parts: CommandItem[] }
  | { kind: 'if-present'; input: string; then: CommandItem[]; else: CommandItem[] };

export interface StepInput {
  /** The component's input name. */
  name: string;
  type: ParameterType;
  description?: string;
  default?: TypedValue;
  optional: boolean;
}

export type StepArgument = { kind: 'parameter'; parameter: string } | { kind: 'constant'; value: TypedValue };

export interface PipelineStep {
  name: string;
  component: Component;
  /** Steps this one runs after. */
  after: string[];
  inputs: StepInput[];
  /** Arguments by input name. */
  args: Record<string, StepArgument>;
  command?: CommandItem[];
  commandArgs?: CommandItem[];
  env: { name: string; value: CommandItem }[];
  resources?: StepResources;
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

export interface Project {
  root: string;
  /** Bases before the components that start from them; otherwise by name. */
  components: Component[];
  pipeline?: Pipeline;
}

/** KFP's mapping of v1 type names to v2 parameter types. */
export function parameterType(type: TypeSpec | undefined): ParameterType {
  const name = typeof type === 'string' ? type.toLowerCase() : '';
  if (name === 'integer' || name === 'int') return 'NUMBER_INTEGER';
  if (name === 'float' || name === 'double') return 'NUMBER_DOUBLE';
  if (name === 'boolean' || name === 'bool') return 'BOOLEAN';
  if (name === 'jsonarray' || name === 'list') return 'LIST';
  if (name === 'jsonobject' || name === 'dict') return 'STRUCT';
  return 'STRING';
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
