/**
 * What the v1 compiler's modules share (sdk/python/kfp at tag 1.8.22): the ops it builds before
 * templates are made, the runtime values they pass, the labels every op gets, and values serialised
 * as kfp serialises them.
 */

import { pythonJson, pythonStr } from './python-text.js';
import type { YamlData } from './pyyaml-dump.js';
import { pythonFloatRepr } from './pyyaml-dump.js';

/** The kfp release whose compiler output this reproduces; kept in the `kfp_sdk_version` labels and annotations. */
export const KFP_SDK_VERSION = '1.8.22';
export const SDK_VERSION_LABEL = 'pipelines.kubeflow.org/kfp_sdk_version';

/** A step's component as the v1 user loads it: the published file. */
export interface V1ComponentFile {
  /** The pinned image (`image@sha256:…`). */
  image: string;
  /** The text of dist/components/<c>/component.yaml: its SHA-256 is the `component_ref` digest. */
  text: string;
  /** The path it is loaded from, as `component_ref.url` records it (e.g. dist/components/train/component.yaml); none for a component loaded from text. */
  url?: string;
}

export type Json = { [key: string]: YamlData };

/** A runtime value in an op: a pipeline parameter or another op's output, as kfp's PipelineParam. */
export interface Param {
  /** The producing op, or undefined for a pipeline parameter. */
  op?: string;
  fullName: string;
}
/** An argument: a runtime value, or a constant already as the text kfp serialises it to. */
export type Argument = { param: Param } | { text: string };

export const placeholderOf = (p: Param) => `{{inputs.parameters.${p.fullName}}}`;

export function byName<T extends { name?: YamlData }>(a: T, b: T): number {
  const x = String(a.name);
  const y = String(b.name);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** kfp's type names of pipeline.yaml's parameter types. */
export const V1_TYPE_NAMES: Record<string, string> = { STRING: 'String', NUMBER_INTEGER: 'Integer', NUMBER_DOUBLE: 'Float', BOOLEAN: 'Boolean' };

/** `serialize_value` of a pipeline parameter's default or a literal argument, by its declared type. */
export function serialize(value: unknown, type: string | undefined): string {
  if (typeof value === 'string') return value;
  if (type === 'Float' && typeof value === 'number') return pythonFloatRepr(value);
  if ((type === 'JsonObject' || type === 'JsonArray') && typeof value === 'object') return pythonJson(value);
  return pythonStr(value);
}

/** What kfp builds of one op before templates are made. */
export interface Op {
  name: string;
  /** Params found in the op (`op.inputs`). */
  inputs: Map<string, Param>;
  /** Ops this one runs after (`dependent_names`). */
  after: string[];
  template: Json;
}

/** The labels every op gets: its component's, then the SDK's, then caching (`_op_to_template`). */
export function podLabels(own: Record<string, unknown> | undefined): Json {
  const labels: Json = { ...((own ?? {}) as Json) };
  labels[SDK_VERSION_LABEL] ??= KFP_SDK_VERSION;
  labels['pipelines.kubeflow.org/pipeline-sdk-type'] ??= 'kfp';
  labels['pipelines.kubeflow.org/enable_caching'] = 'true';
  return labels;
}

export interface Volume {
  op: string;
  nameParam: Param;
}
