/**
 * The KFP v1 pipeline package: the Argo Workflow that kfp 1.8.22's compiler writes for pipeline.yaml,
 * built the way a KFP v1 user builds it — each step's `dist/components/<c>/component.yaml` loaded with
 * `kfp.components.load_component_from_file` and named by the step key, one
 * `dsl.VolumeOp(name=volume.name, resource_name=volume.name, size=…, modes=[accessMode])` whose volume every op
 * mounts (`add_pvolumes`), `.after()` for `after:`, pipeline parameters as typed function parameters with
 * pipeline.yaml's defaults, `{from, output}` as `producer.outputs[output]`, and `cpu`/`memory`/`gpu` as
 * `set_cpu_request`/`set_memory_request`/`set_gpu_limit` (`cpuLimit`/`memoryLimit` as `set_cpu_limit`/
 * `set_memory_limit`). The compiler's steps are followed in order (sdk/python/kfp at tag 1.8.22):
 * `dsl/_component_bridge.py` (command line, file outputs, input artifacts), `compiler/_op_to_template.py`
 * (templates), `compiler.py` (DAG, arguments, workflow) and `compiler/_data_passing_rewriter.py` (files passed
 * as Argo artifacts), then the YAML is dumped as `components/_yaml_utils.py` dumps it.
 * Pure rendering of a loaded pipeline: what v1 cannot express was refused by the loader (project/kfp-v1.ts).
 */
import { createHash } from 'node:crypto';
import type { ComponentFile, Placeholder } from '../project/component-schema.js';
import { pythonFloat, pythonInt, pythonStrtobool, v2OnlyPlaceholders } from '../project/kfp-v1.js';
import type { Pipeline, PipelineStep, StepArgument } from '../project/model.js';
import { opName, pythonJson, pythonStr, sanitizeFileName, sanitizeK8sName, uniqueName } from './python-text.js';
import { dumpYaml, pythonFloatRepr, type YamlData } from './pyyaml-dump.js';

/** The kfp release whose compiler output this reproduces; kept in the `kfp_sdk_version` labels and annotations. */
export const KFP_SDK_VERSION = '1.8.22';
const SDK_VERSION_LABEL = 'pipelines.kubeflow.org/kfp_sdk_version';

/** A step's component as the v1 user loads it: the published file. */
export interface V1ComponentFile {
  /** The pinned image (`image@sha256:…`). */
  image: string;
  /** The text of dist/components/<c>/component.yaml: its SHA-256 is the `component_ref` digest. */
  text: string;
  /** The path it is loaded from, as `component_ref.url` records it (e.g. dist/components/train/component.yaml); none for a component loaded from text. */
  url?: string;
}

type Json = { [key: string]: YamlData };

/** A runtime value in an op: a pipeline parameter or another op's output, as kfp's PipelineParam. */
interface Param {
  /** The producing op, or undefined for a pipeline parameter. */
  op?: string;
  fullName: string;
}
/** An argument: a runtime value, or a constant already as the text kfp serialises it to. */
type Argument = { param: Param } | { text: string };

const placeholderOf = (p: Param) => `{{inputs.parameters.${p.fullName}}}`;

function byName<T extends { name?: YamlData }>(a: T, b: T): number {
  const x = String(a.name);
  const y = String(b.name);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Python's `strtobool`, as kfp evaluates an `if` condition at compile time (the loader refused other texts). */
function strtobool(s: string): boolean {
  const truth = pythonStrtobool(s);
  if (truth === undefined) throw new Error(`invalid truth value ${s}`);
  return truth;
}

/** kfp's type names of pipeline.yaml's parameter types. */
const V1_TYPE_NAMES: Record<string, string> = { STRING: 'String', NUMBER_INTEGER: 'Integer', NUMBER_DOUBLE: 'Float', BOOLEAN: 'Boolean' };

/** `serialize_value` of a pipeline parameter's default or a literal argument, by its declared type. */
function serialize(value: unknown, type: string | undefined): string {
  if (typeof value === 'string') return value;
  if (type === 'Float' && typeof value === 'number') return pythonFloatRepr(value);
  if ((type === 'JsonObject' || type === 'JsonArray') && typeof value === 'object') return pythonJson(value);
  return pythonStr(value);
}

/** Drop what kfp's `to_dict` drops: absent (None) fields and fields equal to their default. */
function prune(value: unknown): YamlData {
  if (Array.isArray(value)) return value.map(prune);
  if (value !== null && typeof value === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) out[k] = prune(v);
    return out;
  }
  return value as YamlData;
}

/** The `component_spec` annotation: the loaded component, renamed to the step. */
function componentSpecJson(spec: ComponentFile, name: string, image: string): string {
  const { build: _build, implementation, ...rest } = spec;
  const { image: _image, ...container } = implementation.container;
  const inputs = spec.inputs?.map(({ optional, ...input }) => ({ ...input, ...(optional ? { optional } : {}) }));
  const version = rest.version === 'google.com/cloud/pipelines/component/v1' ? undefined : rest.version;
  return pythonJson(prune({ ...rest, version, inputs, name, implementation: { container: { ...container, image } } }));
}

/** kfp's component digest: SHA-256 of the file's bytes, line endings normalised. */
function sha256Hex(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}

/** What kfp builds of one op before templates are made. */
interface Op {
  name: string;
  /** Params found in the op (`op.inputs`). */
  inputs: Map<string, Param>;
  /** Ops this one runs after (`dependent_names`). */
  after: string[];
  template: Json;
}

class CompiledStep {
  readonly inputs = new Map<string, Param>();
  readonly byValue: Record<string, string> = {};
  readonly inputPaths = new Map<string, string>();
  readonly outputPaths = new Map<string, string>();

  constructor(private readonly args: Map<string, Argument>) {}

  private use(a: Argument): string {
    if ('param' in a) {
      this.inputs.set(a.param.fullName, a.param);
      return placeholderOf(a.param);
    }
    return '';
  }

  /** `_resolve_command_line_and_paths`: one placeholder, expanded (undefined: left out). */
  private expand(p: Placeholder): string | string[] | undefined {
    if (typeof p === 'string') return p;
    if ('inputValue' in p) {
      const a = this.args.get(p.inputValue);
      if (!a) return undefined;
      const text = 'param' in a ? this.use(a) : a.text;
      this.byValue[p.inputValue] = text;
      return text;
    }
    if ('inputPath' in p) {
      if (!this.args.has(p.inputPath)) return undefined;
      const path = `/tmp/inputs/${sanitizeFileName(p.inputPath)}/data`;
      this.inputPaths.set(p.inputPath, path);
      return path;
    }
    if ('outputPath' in p) {
      const path = `/tmp/outputs/${sanitizeFileName(p.outputPath)}/data`;
      if (!this.outputPaths.has(p.outputPath)) this.outputPaths.set(p.outputPath, path);
      return path;
    }
    if ('concat' in p) return this.list(p.concat).join('');
    if ('isPresent' in p) return this.args.has(p.isPresent) ? 'True' : 'False';
    if ('if' in p) {
      const cond = typeof p.if.cond === 'boolean' ? String(p.if.cond) : this.expand(p.if.cond);
      const branch = cond !== undefined && !Array.isArray(cond) && strtobool(cond) ? p.if.then : p.if.else;
      if (branch === undefined) return [];
      return Array.isArray(branch) ? this.list(branch) : this.expand(branch);
    }
    // inputUri, outputUri and executorInput are refused for v1 when the pipeline is loaded.
    throw new Error(`placeholder ${Object.keys(p)[0]} in a KFP v1 pipeline`);
  }

  list(items: Placeholder[] | undefined): string[] {
    const out: string[] = [];
    for (const item of items ?? []) {
      const x = this.expand(item);
      if (Array.isArray(x)) out.push(...x);
      else if (x !== undefined) out.push(x);
    }
    return out;
  }
}

/** The arguments kfp's bridge passes: the step's, then every other input's default (Integer and Float converted). */
function stepArguments(step: PipelineStep, spec: ComponentFile, opNames: Map<string, string>): Map<string, Argument> {
  const out = new Map<string, Argument>();
  for (const input of spec.inputs ?? []) {
    const a: StepArgument | undefined = step.args[input.name];
    if (a?.kind === 'parameter') out.set(input.name, { param: { fullName: sanitizeK8sName(a.parameter, true) } });
    else if (a?.kind === 'task-output') {
      const op = opNames.get(a.step)!;
      out.set(input.name, { param: { op, fullName: `${op}-${sanitizeK8sName(a.output, true)}` } });
    } else if (a?.kind === 'constant') {
      const type = step.inputs.find((i) => i.name === input.name)?.type;
      out.set(input.name, { text: type === 'NUMBER_DOUBLE' && typeof a.value === 'number' ? pythonFloatRepr(a.value) : pythonStr(a.value) });
    } else if (input.default !== undefined && input.default !== null) {
      // The bridge converts the defaults of Integer and Float inputs with int() and float() (the loader checked they read).
      const d = String(input.default);
      if (input.type === 'Integer') out.set(input.name, { text: pythonInt(d) ?? d });
      else if (input.type === 'Float') out.set(input.name, { text: pythonFloatRepr(pythonFloat(d) ?? Number(d)) });
      else out.set(input.name, { text: pythonStr(input.default) });
    }
  }
  return out;
}

function resources(step: PipelineStep): Json | undefined {
  const r = step.resources;
  if (!r) return undefined;
  const limits: Json = {};
  const requests: Json = {};
  if (r.gpu) limits[r.gpuType] = r.gpu;
  if (r.cpu !== undefined) requests.cpu = String(r.cpu);
  if (r.memory !== undefined) requests.memory = String(r.memory);
  if (r.cpuLimit !== undefined) limits.cpu = String(r.cpuLimit);
  if (r.memoryLimit !== undefined) limits.memory = String(r.memoryLimit);
  const out: Json = {};
  if (Object.keys(limits).length) out.limits = limits;
  if (Object.keys(requests).length) out.requests = requests;
  return Object.keys(out).length ? out : undefined;
}

/** The labels every op gets: its component's, then the SDK's, then caching (`_op_to_template`). */
function podLabels(own: Record<string, unknown> | undefined): Json {
  const labels: Json = { ...((own ?? {}) as Json) };
  labels[SDK_VERSION_LABEL] ??= KFP_SDK_VERSION;
  labels['pipelines.kubeflow.org/pipeline-sdk-type'] ??= 'kfp';
  labels['pipelines.kubeflow.org/enable_caching'] = 'true';
  return labels;
}

interface Volume {
  op: string;
  nameParam: Param;
}

function volumeOp(pipeline: Pipeline, name: string): Op {
  const v = pipeline.volume!;
  const manifest = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: `{{workflow.name}}-${sanitizeK8sName(v.name)}` },
    spec: {
      accessModes: [v.accessMode],
      resources: { requests: { storage: v.size } },
      ...(v.storageClass !== undefined ? { storageClassName: v.storageClass } : {}),
    },
  };
  const output = (key: string, jsonPath: string) => ({ name: `${name}-${key}`, valueFrom: { jsonPath } });
  return {
    name,
    inputs: new Map(),
    after: [],
    template: {
      name,
      resource: { action: 'create', manifest: dumpYaml(manifest, { flow: 'block', sortKeys: true, kfpStrings: false }) },
      outputs: { parameters: [output('manifest', '{}'), output('name', '{.metadata.name}'), output('size', '{.status.capacity.storage}')] },
      metadata: { labels: podLabels(undefined) },
    },
  };
}

function containerOp(
  step: PipelineStep,
  name: string,
  file: V1ComponentFile,
  opNames: Map<string, string>,
  volume: Volume | undefined,
  mountPath: string | undefined,
): Op {
  const spec = step.component.spec;
  const container = spec.implementation.container;
  const args = stepArguments(step, spec, opNames);
  const c = new CompiledStep(args);
  // Outputs with a fixed path come first, in the order the component declares them.
  for (const output of spec.outputs ?? []) {
    const fixed = container.fileOutputs?.[output.name];
    if (fixed !== undefined) c.outputPaths.set(output.name, fixed);
  }
  const command = c.list(container.command);
  const commandArgs = c.list(container.args);
  // `_set_metadata`: every declared output is a file output; every argument not taken by value is an input file.
  const legacy = new Map<string, string>();
  for (const output of spec.outputs ?? []) {
    if (!c.outputPaths.has(output.name)) c.outputPaths.set(output.name, `/tmp/outputs/${sanitizeFileName(output.name)}/data`);
  }
  for (const [output, path] of [...c.outputPaths]) {
    const normalized = output.toLowerCase().replace(/[^a-zA-Z0-9]/g, '-');
    if (normalized === 'mlpipeline-ui-metadata' || normalized === 'mlpipeline-metrics') {
      legacy.set(normalized, path);
      c.outputPaths.delete(output);
    }
  }
  const rawArtifacts = new Map<string, string>();
  for (const [input, a] of args) {
    if (input in c.byValue) continue;
    if (!c.inputPaths.has(input)) c.inputPaths.set(input, `/tmp/inputs/${sanitizeFileName(input)}/data`);
    rawArtifacts.set(input, 'param' in a ? placeholderOf(a.param) : a.text);
    if ('param' in a) c.inputs.set(a.param.fullName, a.param);
  }
  for (const input of c.inputPaths.keys()) if (input in c.byValue) c.inputPaths.delete(input);

  const env = Object.entries(container.env ?? {}).map(([envName, value]) => ({ name: envName, value: value as string }));
  const res = resources(step);
  const containerJson: Json = {
    args: commandArgs,
    command,
    ...(env.length ? { env } : {}),
    image: file.image,
    ...(res ? { resources: res } : {}),
    ...(volume ? { volumeMounts: [{ mountPath: mountPath!, name: volume.op }] } : {}),
  };
  if (volume) c.inputs.set(volume.nameParam.fullName, volume.nameParam);

  const template: Json = { name, container: containerJson };
  const inputs: Json = {};
  const parameters = [...c.inputs.keys()].map((n) => ({ name: n })).sort(byName);
  if (parameters.length) inputs.parameters = parameters;
  const artifacts = [...c.inputPaths]
    .map(([input, path]) => ({ name: sanitizeK8sName(input, true), path, raw: { data: rawArtifacts.get(input)! } }))
    .sort(byName);
  if (artifacts.length) inputs.artifacts = artifacts;
  if (Object.keys(inputs).length) template.inputs = inputs;

  const outputs: Json = {};
  const fileOutputs = [...c.outputPaths].map(([output, path]) => ({ name: `${name}-${sanitizeK8sName(output, true)}`, path }));
  const outParams = fileOutputs.map((o) => ({ name: o.name, valueFrom: { path: o.path } })).sort(byName);
  const outArtifacts = [...[...legacy].map(([n, path]) => ({ name: n, path })), ...[...fileOutputs].sort(byName)];
  if (outParams.length) outputs.parameters = outParams;
  if (outArtifacts.length) outputs.artifacts = outArtifacts;
  if (Object.keys(outputs).length) template.outputs = outputs;

  const ownAnnotations = (spec.metadata?.annotations ?? {}) as Json;
  const annotations: Json = { ...ownAnnotations };
  annotations['pipelines.kubeflow.org/component_spec'] = componentSpecJson(spec, step.name, file.image);
  annotations['pipelines.kubeflow.org/component_ref'] = pythonJson({ digest: sha256Hex(file.text), ...(file.url !== undefined ? { url: file.url } : {}) });
  if (Object.keys(c.byValue).length) annotations['pipelines.kubeflow.org/arguments.parameters'] = pythonJson(c.byValue);
  if (ownAnnotations.volatile_component === 'true') annotations['pipelines.kubeflow.org/max_cache_staleness'] = 'P0D';
  const labels = podLabels(spec.metadata?.labels);
  template.metadata = Object.keys(ownAnnotations).length ? { annotations, labels } : { labels, annotations };
  if (volume) template.volumes = [{ name: volume.op, persistentVolumeClaim: { claimName: placeholderOf(volume.nameParam) } }];

  const after = [...step.after.map((s) => opNames.get(s)!), ...(volume ? [volume.op] : [])];
  return { name, inputs: c.inputs, after, template };
}

/** The DAG template of the pipeline and its tasks (`_group_to_dag_template`). */
function dagTemplate(name: string, ops: Op[]): Json {
  const pipelineInputs = new Set<string>();
  const tasks = ops.map((op) => {
    const task: Json = { name: op.name, template: op.name };
    const deps = new Set([...op.after, ...[...op.inputs.values()].flatMap((p) => (p.op ? [p.op] : []))]);
    if (deps.size) task.dependencies = [...deps].sort();
    const params = [...op.inputs.values()].map((p) => {
      if (!p.op) pipelineInputs.add(p.fullName);
      return { name: p.fullName, value: p.op ? `{{tasks.${p.op}.outputs.parameters.${p.fullName}}}` : placeholderOf(p) };
    });
    if (params.length) task.arguments = { parameters: params.sort(byName) };
    return task;
  });
  const template: Json = { name };
  if (pipelineInputs.size) template.inputs = { parameters: [...pipelineInputs].map((n) => ({ name: n })).sort(byName) };
  template.dag = { tasks: tasks.sort(byName) };
  return template;
}

/**
 * The workflow of the pipeline. `images` maps each step's component to its published file;
 * `compiledAt` is the `pipeline_compilation_time` annotation (kfp writes `datetime.now().isoformat()`).
 */
export function buildArgoWorkflow(pipeline: Pipeline, files: Map<string, V1ComponentFile>, compiledAt: string): Json {
  const taken = new Set<string>();
  const take = (n: string) => {
    const unique = uniqueName(opName(n), taken, '-');
    taken.add(unique);
    return unique;
  };
  const ops: Op[] = [];
  let volume: Volume | undefined;
  if (pipeline.volume) {
    const op = take(pipeline.volume.name);
    volume = { op, nameParam: { op, fullName: `${op}-name` } };
    ops.push(volumeOp(pipeline, op));
  }
  const opNames = new Map<string, string>();
  for (const step of pipeline.steps) opNames.set(step.name, take(step.name));
  for (const step of pipeline.steps) {
    const file = files.get(step.component.name);
    if (!file) throw new Error(`no published component file for ${step.component.name} (step ${step.name})`);
    ops.push(containerOp(step, opNames.get(step.name)!, file, opNames, volume, pipeline.volume?.mountPath));
  }

  const name = uniqueName(sanitizeK8sName(pipeline.name), new Set(ops.map((o) => o.name.toLowerCase())), '-');
  const templates = [dagTemplate(name, ops), ...ops.map((o) => o.template)].sort(byName);

  const parameters = pipeline.parameters.map((p) => {
    const type = V1_TYPE_NAMES[p.type];
    return { name: sanitizeK8sName(p.name, true), type, default: p.default === undefined ? undefined : serialize(p.default, type), description: p.description };
  });
  const pullSecrets = [...new Set(pipeline.steps.flatMap((s) => s.imagePullSecrets ?? []))];
  const spec: Json = {
    entrypoint: name,
    templates,
    arguments: { parameters: parameters.map((p): Json => (p.default === undefined ? { name: p.name } : { name: p.name, value: p.default })) },
    serviceAccountName: 'pipeline-runner',
    ...(pullSecrets.length ? { imagePullSecrets: pullSecrets.map((s) => ({ name: s })) } : {}),
  };
  const workflow = passFilesAsArtifacts({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', metadata: { generateName: `${name}-` }, spec });

  const meta = {
    name: pipeline.name,
    ...(pipeline.description !== undefined ? { description: pipeline.description } : {}),
    // No parameters: no `inputs` (the interface kfp extracts has None).
    ...(parameters.length
      ? {
          inputs: parameters.map((p) => ({
            name: p.name,
            ...(p.type ? { type: p.type } : {}),
            ...(p.description !== undefined ? { description: p.description } : {}),
            ...(p.default !== undefined ? { default: p.default, optional: true } : {}),
          })),
        }
      : {}),
  };
  const metadata = workflow.metadata as Json;
  metadata.annotations = {
    [SDK_VERSION_LABEL]: KFP_SDK_VERSION,
    'pipelines.kubeflow.org/pipeline_compilation_time': compiledAt,
    'pipelines.kubeflow.org/pipeline_spec': pythonJson(meta),
  };
  metadata.labels = { [SDK_VERSION_LABEL]: KFP_SDK_VERSION };
  return workflow;
}

/** Why the pipeline has no v1 package, if it has none: the placeholders of its steps only KFP v2's launcher fills. */
export function v1PackageBlockers(pipeline: Pipeline): string[] {
  const components = new Map(pipeline.steps.map((s) => [s.component.name, s.component]));
  return [...components.values()].flatMap((c) => v2OnlyPlaceholders(c.spec).map((path) => `${c.file}: ${path}`));
}

/** The package's text: the workflow as kfp's `dump_yaml` writes it. */
export function renderArgoWorkflow(workflow: Json): string {
  return dumpYaml(workflow, { flow: 'auto', sortKeys: false, kfpStrings: true });
}

/** Python's `datetime.now().isoformat()` of a time (local time, microseconds only when not zero). */
export function compileTime(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const base = `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
  return date.getMilliseconds() ? `${base}.${p(date.getMilliseconds() * 1000, 6)}` : base;
}

/** The compile time a package records, if it is one. */
export function compiledAtOf(text: string): string | undefined {
  return /pipelines\.kubeflow\.org\/pipeline_compilation_time: '([^']*)'/.exec(text)?.[1];
}

// --- fix_big_data_passing ------------------------------------------------------------------------

const PLACEHOLDER = /^\{\{[-._a-zA-Z0-9]+\}\}$/;
const parts = (s: string) => (PLACEHOLDER.test(s) ? s.slice(2, -2).split('.') : undefined);
const inputParameterName = (s: string) => /^\{\{inputs\.parameters\.([-_a-zA-Z0-9]+)\}\}$/.exec(s)?.[1];
const allPlaceholders = (x: unknown) => [...new Set([...JSON.stringify(x).matchAll(/\{\{([-._a-zA-Z0-9]+)\}\}/g)].map((m) => m[1]!))];

type Key = string;
const key = (template: string, name: string): Key => JSON.stringify([template, name]);

/**
 * `fix_big_data_passing`: data a container takes as a file is passed as an Argo artifact, and every
 * parameter no container reads as a value is pruned, with the compiler's own bookkeeping.
 */
function passFilesAsArtifacts(workflow: Json): Json {
  const spec = workflow.spec as Json;
  const templates = spec.templates as Json[];
  const containers = templates.filter((t) => 'container' in t);
  const dags = templates.filter((t) => 'dag' in t);
  const resourcesT = templates.filter((t) => 'resource' in t);
  const resourceNames = new Set(resourcesT.map((t) => t.name as string));
  const tasksOf = (t: Json) => (t.dag as Json).tasks as Json[];
  const obj = (x: YamlData | undefined) => (x ?? {}) as Json;
  const arr = (x: YamlData | undefined) => (x ?? []) as Json[];

  const toDagInputs = new Map<Key, Set<Key>>();
  const toTaskOutputs = new Map<Key, Set<Key>>();
  const add = (m: Map<Key, Set<Key>>, k: Key, v: Key) => m.set(k, (m.get(k) ?? new Set()).add(v));
  for (const t of dags) {
    const templateOf = new Map(tasksOf(t).map((task) => [task.name as string, task.template as string]));
    for (const task of tasksOf(t)) {
      for (const arg of arr(obj(task.arguments).parameters)) {
        const p = parts(arg.value as string);
        if (!p) continue;
        const target = key(task.template as string, arg.name as string);
        if (p[0] === 'inputs') add(toDagInputs, target, key(t.name as string, p[2]!));
        else if (p[0] === 'tasks') add(toTaskOutputs, target, key(templateOf.get(p[1]!)!, p[4]!));
      }
    }
  }

  const asParameters = new Set<Key>();
  const asArtifacts = new Set<Key>();
  const outputsAsParameters = new Set<Key>();
  for (const t of containers) {
    for (const artifact of arr(obj(t.inputs).artifacts)) {
      const name = inputParameterName((artifact.raw as Json).data as string);
      if (name) {
        asArtifacts.add(key(t.name as string, name));
        delete artifact.raw;
        artifact.name = name;
      }
    }
  }
  for (const t of dags) {
    const templateOf = new Map(tasksOf(t).map((task) => [task.name as string, task.template as string]));
    for (const task of tasksOf(t)) {
      const { arguments: _args, ...rest } = task;
      for (const ph of allPlaceholders(rest)) {
        const p = ph.split('.');
        if (p[0] === 'inputs' && p[1] === 'parameters') asParameters.add(key(t.name as string, p[2]!));
        else if (p[0] === 'tasks') outputsAsParameters.add(key(templateOf.get(p[1]!)!, p[4]!));
      }
    }
  }
  for (const t of [...containers, ...resourcesT]) {
    for (const ph of allPlaceholders(t)) {
      const p = ph.split('.');
      if (p[0] === 'inputs' && p[1] === 'parameters') asParameters.add(key(t.name as string, p[2]!));
    }
  }

  const inputsAsParameters = new Set<Key>();
  const inputsAsArtifacts = new Set<Key>();
  const outputsAsParams = new Set<Key>();
  const outputsAsArtifacts = new Set<Key>();
  const markInput = (k: Key, inputs: Set<Key>, outputs: Set<Key>) => {
    if (inputs.has(k)) return;
    inputs.add(k);
    for (const up of toDagInputs.get(k) ?? []) markInput(up, inputs, outputs);
    for (const up of toTaskOutputs.get(k) ?? []) outputs.add(up);
  };
  for (const k of asParameters) markInput(k, inputsAsParameters, outputsAsParams);
  for (const k of asArtifacts) markInput(k, inputsAsArtifacts, outputsAsArtifacts);
  for (const k of outputsAsParameters) outputsAsParams.add(k);

  for (const t of dags) {
    const name = t.name as string;
    const inputs = obj(t.inputs);
    const inputArtifacts: Json[] = [];
    for (const p of arr(inputs.parameters)) if (inputsAsArtifacts.has(key(name, p.name as string))) inputArtifacts.push({ name: p.name! });
    if (t.inputs) inputs.artifacts = inputArtifacts;
    for (const task of tasksOf(t)) {
      const args = task.arguments as Json | undefined;
      const artifactArgs: Json[] = [];
      for (const p of arr(args?.parameters)) {
        if (!inputsAsArtifacts.has(key(task.template as string, p.name as string))) continue;
        const value = p.value as string;
        const pp = parts(value);
        if (pp && (pp[0] === 'inputs' || pp[0] === 'tasks') && !(pp[0] === 'tasks' && resourceNames.has(pp[1]!))) {
          artifactArgs.push({ name: p.name!, from: value.replace('.parameters.', '.artifacts.') });
        } else artifactArgs.push({ name: p.name!, raw: { data: value } });
      }
      if (args) args.artifacts = artifactArgs;
    }
  }
  for (const t of [...containers, ...dags]) {
    const inputs = t.inputs as Json | undefined;
    if (inputs) inputs.parameters = arr(inputs.parameters).filter((p) => inputsAsParameters.has(key(t.name as string, p.name as string)));
    const outputs = t.outputs as Json | undefined;
    if (outputs) outputs.parameters = arr(outputs.parameters).filter((p) => outputsAsParams.has(key(t.name as string, p.name as string)));
  }
  for (const t of dags) {
    for (const task of tasksOf(t)) {
      const args = task.arguments as Json | undefined;
      if (args) args.parameters = arr(args.parameters).filter((p) => inputsAsParameters.has(key(task.template as string, p.name as string)));
    }
  }
  const entry = spec.entrypoint as string;
  const wfArgs = spec.arguments as Json;
  const artifactArgs = arr(wfArgs.parameters)
    .filter((p) => inputsAsArtifacts.has(key(entry, p.name as string)))
    .map((p) => ({ name: p.name!, raw: { data: `{{workflow.parameters.${p.name}}}` } }));
  if (artifactArgs.length) wfArgs.artifacts = artifactArgs;

  // clean_up_empty_workflow_structures
  const clean = (holder: Json, field: string) => {
    const x = holder[field] as Json | undefined;
    if (!x) return;
    for (const k of ['parameters', 'artifacts']) if (k in x && (x[k] as Json[]).length === 0) delete x[k];
    if (Object.keys(x).length === 0) delete holder[field];
  };
  for (const t of templates) {
    clean(t, 'inputs');
    clean(t, 'outputs');
    if ('dag' in t) for (const task of tasksOf(t)) clean(task, 'arguments');
  }
  return workflow;
}
