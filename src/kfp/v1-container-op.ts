/**
 * One step as kfp 1.8.22 compiles it: `dsl/_component_bridge.py` (the command line with its
 * placeholders resolved, file outputs, input artifacts) and `compiler/_op_to_template.py` (the
 * container template with its inputs, outputs, annotations and labels).
 */
import { createHash } from 'node:crypto';
import type { ComponentFile, Placeholder } from '../project/component-schema.js';
import { pythonFloat, pythonInt, pythonStrtobool } from '../project/kfp-v1.js';
import type { PipelineStep, StepArgument } from '../project/model.js';
import { pythonJson, pythonStr, sanitizeFileName, sanitizeK8sName } from './python-text.js';
import { pythonFloatRepr, type YamlData } from './pyyaml-dump.js';
import { type Argument, byName, type Json, type Op, type Param, placeholderOf, podLabels, type V1ComponentFile, type Volume } from './v1-op.js';

/** Python's `strtobool`, as kfp evaluates an `if` condition at compile time (the loader refused other texts). */
function strtobool(s: string): boolean {
  const truth = pythonStrtobool(s);
  if (truth === undefined) throw new Error(`invalid truth value ${s}`);
  return truth;
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

export function containerOp(
  step: PipelineStep,
  name: string,
  file: V1ComponentFile,
  opNames: Map<string, string>,
  volume: Volume | undefined,
  mountPath: string | undefined,
): Op {
  const spec = step.component.spec;
  const container = spec.implementation.container;
  const line = commandLine(step, opNames);
  const { c } = line;
  const env = Object.entries(container.env ?? {}).map(([envName, value]) => ({ name: envName, value: value as string }));
  const res = resources(step);
  const containerJson: Json = {
    args: line.args,
    command: line.command,
    ...(env.length ? { env } : {}),
    image: file.image,
    ...(res ? { resources: res } : {}),
    ...(volume ? { volumeMounts: [{ mountPath: mountPath!, name: volume.op }] } : {}),
  };
  if (volume) c.inputs.set(volume.nameParam.fullName, volume.nameParam);

  const template: Json = { name, container: containerJson };
  const inputs = templateInputs(c, line.rawArtifacts);
  if (Object.keys(inputs).length) template.inputs = inputs;
  const outputs = templateOutputs(name, c, line.legacy);
  if (Object.keys(outputs).length) template.outputs = outputs;
  template.metadata = templateMetadata(step, file, c);
  if (volume) template.volumes = [{ name: volume.op, persistentVolumeClaim: { claimName: placeholderOf(volume.nameParam) } }];

  const after = [...step.after.map((s) => opNames.get(s)!), ...(volume ? [volume.op] : [])];
  return { name, inputs: c.inputs, after, template };
}

/**
 * `_resolve_command_line_and_paths` and `_set_metadata`: the command line with its placeholders
 * resolved; every declared output a file output (the two legacy UI outputs apart); every argument
 * not taken by value an input file.
 */
function commandLine(step: PipelineStep, opNames: Map<string, string>) {
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
  return { c, command, args: commandArgs, legacy, rawArtifacts };
}

function templateInputs(c: CompiledStep, rawArtifacts: Map<string, string>): Json {
  const inputs: Json = {};
  const parameters = [...c.inputs.keys()].map((n) => ({ name: n })).sort(byName);
  if (parameters.length) inputs.parameters = parameters;
  const artifacts = [...c.inputPaths]
    .map(([input, path]) => ({ name: sanitizeK8sName(input, true), path, raw: { data: rawArtifacts.get(input)! } }))
    .sort(byName);
  if (artifacts.length) inputs.artifacts = artifacts;
  return inputs;
}

function templateOutputs(name: string, c: CompiledStep, legacy: Map<string, string>): Json {
  const outputs: Json = {};
  const fileOutputs = [...c.outputPaths].map(([output, path]) => ({ name: `${name}-${sanitizeK8sName(output, true)}`, path }));
  const outParams = fileOutputs.map((o) => ({ name: o.name, valueFrom: { path: o.path } })).sort(byName);
  const outArtifacts = [...[...legacy].map(([n, path]) => ({ name: n, path })), ...[...fileOutputs].sort(byName)];
  if (outParams.length) outputs.parameters = outParams;
  if (outArtifacts.length) outputs.artifacts = outArtifacts;
  return outputs;
}

/** The component's own annotations first (then kfp's), else labels first, as kfp orders them. */
function templateMetadata(step: PipelineStep, file: V1ComponentFile, c: CompiledStep): Json {
  const spec = step.component.spec;
  const ownAnnotations = (spec.metadata?.annotations ?? {}) as Json;
  const annotations: Json = { ...ownAnnotations };
  annotations['pipelines.kubeflow.org/component_spec'] = componentSpecJson(spec, step.name, file.image);
  annotations['pipelines.kubeflow.org/component_ref'] = pythonJson({ digest: sha256Hex(file.text), ...(file.url !== undefined ? { url: file.url } : {}) });
  if (Object.keys(c.byValue).length) annotations['pipelines.kubeflow.org/arguments.parameters'] = pythonJson(c.byValue);
  if (ownAnnotations.volatile_component === 'true') annotations['pipelines.kubeflow.org/max_cache_staleness'] = 'P0D';
  const labels = podLabels(spec.metadata?.labels);
  return Object.keys(ownAnnotations).length ? { annotations, labels } : { labels, annotations };
}
