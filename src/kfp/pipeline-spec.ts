import { stringify } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { Placeholder, TypeSpec } from '../project/component-schema.js';
import type { Pipeline } from '../project/pipeline.js';
import type { StepResources } from '../project/pipeline-schema.js';
import type { Component } from '../project/project.js';

/**
 * Emit a KFP v2 pipeline spec (IR YAML, schemaVersion 2.1.0) for pipeline.yaml, followed by the
 * Kubernetes platform spec that creates the shared PVC and mounts it into every executor — the two
 * documents KFP's compiler and its kubernetes extension write, ready to upload in the KFP UI.
 */
export const PVC_TASK = 'createpvc';

type ParameterType = 'STRING' | 'NUMBER_INTEGER' | 'NUMBER_DOUBLE' | 'BOOLEAN' | 'LIST' | 'STRUCT';

export function parameterType(type: TypeSpec | undefined): ParameterType {
  const name = typeof type === 'string' ? type.toLowerCase() : '';
  if (name === 'integer' || name === 'int') return 'NUMBER_INTEGER';
  if (name === 'float' || name === 'double') return 'NUMBER_DOUBLE';
  if (name === 'boolean' || name === 'bool') return 'BOOLEAN';
  if (name === 'jsonarray' || name === 'list') return 'LIST';
  if (name === 'jsonobject' || name === 'dict') return 'STRUCT';
  return 'STRING';
}

/** A value typed for its parameter: "4" is 4 for an integer input. */
export function typedValue(value: string | number | boolean, type: ParameterType): unknown {
  const s = String(value);
  switch (type) {
    case 'NUMBER_INTEGER':
    case 'NUMBER_DOUBLE': {
      const n = Number(s);
      if (s.trim() === '' || Number.isNaN(n) || (type === 'NUMBER_INTEGER' && !Number.isInteger(n))) {
        throw new Error(`"${s}" is not ${type === 'NUMBER_INTEGER' ? 'an integer' : 'a number'}`);
      }
      return n;
    }
    case 'BOOLEAN':
      if (!['true', 'false'].includes(s.toLowerCase())) throw new Error(`"${s}" is not true or false`);
      return s.toLowerCase() === 'true';
    case 'LIST':
    case 'STRUCT':
      return typeof value === 'string' ? JSON.parse(value) : value;
    default:
      return s;
  }
}

/** KFP's own rule for turning v1 input names into v2 parameter names. */
export function sanitizeInputName(name: string): string {
  return name.toLowerCase().replace(/[^-_0-9a-z]+/g, '_').replace(/-/g, '_').replace(/^_+|_+$/g, '');
}

function inputParam(name: string): string {
  return `{{$.inputs.parameters['${sanitizeInputName(name)}']}}`;
}

/** A v1 placeholder as a v2 command-line item. */
export function convertPlaceholder(p: Placeholder, where: string): string {
  if (typeof p === 'string') return p;
  if ('inputValue' in p) return inputParam(p.inputValue);
  if ('concat' in p) return p.concat.map((x) => convertPlaceholder(x, where)).join('');
  if ('if' in p) {
    const cond = p.if.cond;
    const list = (x: Placeholder | Placeholder[] | undefined) => (x === undefined ? [] : Array.isArray(x) ? x : [x]).map((y) => convertPlaceholder(y, where));
    if (typeof cond === 'object' && cond !== null && 'isPresent' in cond) {
      return JSON.stringify({ IfPresent: { InputName: sanitizeInputName(cond.isPresent), Then: list(p.if.then), Else: list(p.if.else) } });
    }
    throw new Error(`${where}: only "if: {cond: {isPresent: …}}" can be emitted into a v2 pipeline`);
  }
  throw new Error(`${where}: ${Object.keys(p)[0]} placeholders (artifacts) are not supported in the emitted pipeline; pass paths as input values on the shared volume`);
}

/** Kubernetes quantity → KFP's legacy float fields (CPU in cores, memory in GB). */
function cpuCores(q: string | number): number {
  const s = String(q);
  return s.endsWith('m') ? Number(s.slice(0, -1)) / 1000 : Number(s);
}
const MEMORY_UNITS: Record<string, number> = { '': 1e-9, k: 1e-6, M: 1e-3, G: 1, T: 1e3, Ki: 1024 / 1e9, Mi: 1024 ** 2 / 1e9, Gi: 1024 ** 3 / 1e9, Ti: 1024 ** 4 / 1e9 };
function memoryGB(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(String(q))!;
  return Number(m[1]) * (MEMORY_UNITS[m[2]!] ?? 1);
}

function resourcesSpec(r: StepResources): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  if (r.cpu !== undefined) Object.assign(out, { cpuRequest: cpuCores(r.cpu), resourceCpuRequest: String(r.cpu) });
  if (r.cpuLimit !== undefined) Object.assign(out, { cpuLimit: cpuCores(r.cpuLimit), resourceCpuLimit: String(r.cpuLimit) });
  if (r.memory !== undefined) Object.assign(out, { memoryRequest: memoryGB(r.memory), resourceMemoryRequest: String(r.memory) });
  if (r.memoryLimit !== undefined) Object.assign(out, { memoryLimit: memoryGB(r.memoryLimit), resourceMemoryLimit: String(r.memoryLimit) });
  if (r.gpu) {
    const count = String(r.gpu);
    out.accelerator = { count, resourceCount: count, resourceType: r.gpuType, type: r.gpuType };
  }
  return Object.keys(out).length ? out : undefined;
}

const PVC_COMPONENT = {
  executorLabel: `exec-${PVC_TASK}`,
  inputDefinitions: {
    parameters: {
      access_modes: { parameterType: 'LIST' },
      annotations: { isOptional: true, parameterType: 'STRUCT' },
      data_source: { isOptional: true, parameterType: 'STRUCT' },
      pvc_name: { isOptional: true, parameterType: 'STRING' },
      pvc_name_suffix: { isOptional: true, parameterType: 'STRING' },
      size: { parameterType: 'STRING' },
      storage_class_name: { defaultValue: '', isOptional: true, parameterType: 'STRING' },
      volume_name: { isOptional: true, parameterType: 'STRING' },
    },
  },
  outputDefinitions: { parameters: { name: { parameterType: 'STRING' } } },
};

export interface PipelineDocuments {
  pipelineSpec: Record<string, unknown>;
  platformSpec?: Record<string, unknown>;
}

/** Build both documents. `images` maps component names to pinned references. */
export function buildPipelineDocuments(pipeline: Pipeline, components: Component[], images: Map<string, string>): PipelineDocuments {
  const byName = new Map(components.map((c) => [c.name, c]));
  const spec = pipeline.spec;
  const problems: ConfigProblem[] = [];
  const fail = (path: string, message: string) => problems.push({ file: pipeline.file, path, message });

  const compDefs: Record<string, unknown> = {};
  const executors: Record<string, unknown> = {};
  const tasks: Record<string, unknown> = {};
  const platformExecutors: Record<string, unknown> = {};

  for (const stepName of pipeline.order) {
    const step = spec.steps[stepName]!;
    const component = byName.get(step.component)!;
    const image = images.get(component.name);
    if (!image) {
      fail(`steps.${stepName}`, `no pinned image for component ${component.name}`);
      continue;
    }
    const inputs = component.spec.inputs ?? [];
    const inputDefs: Record<string, unknown> = {};
    for (const input of inputs) {
      const type = parameterType(input.type);
      const def: Record<string, unknown> = { parameterType: type };
      if (input.description) def.description = input.description;
      if (input.default !== undefined && input.default !== null) {
        try {
          def.defaultValue = typedValue(input.default, type);
        } catch (e) {
          fail(`steps.${stepName}`, `component ${component.name} input ${input.name} default: ${(e as Error).message}`);
        }
      }
      if (input.optional || input.default !== undefined) def.isOptional = true;
      inputDefs[sanitizeInputName(input.name)] = def;
    }
    compDefs[`comp-${stepName}`] = {
      executorLabel: `exec-${stepName}`,
      ...(inputs.length ? { inputDefinitions: { parameters: inputDefs } } : {}),
    };

    const container = component.spec.implementation.container;
    const convert = (items: Placeholder[] | undefined, key: string) => {
      try {
        return items?.map((p) => convertPlaceholder(p, `${component.file}: implementation.container.${key}`));
      } catch (e) {
        fail(`steps.${stepName}`, (e as Error).message);
        return undefined;
      }
    };
    const resources = step.resources ? resourcesSpec(step.resources) : undefined;
    const envEntries = Object.entries(container.env ?? {}).map(([name, value]) => ({ name, value: convert([value], `env.${name}`)?.[0] ?? '' }));
    executors[`exec-${stepName}`] = {
      container: {
        image,
        ...(container.command ? { command: convert(container.command, 'command') } : {}),
        ...(container.args ? { args: convert(container.args, 'args') } : {}),
        ...(envEntries.length ? { env: envEntries } : {}),
        ...(resources ? { resources } : {}),
      },
    };

    const taskParams: Record<string, unknown> = {};
    for (const [arg, value] of Object.entries(step.args)) {
      const input = inputs.find((i) => i.name === arg)!;
      if (typeof value === 'object') {
        taskParams[sanitizeInputName(arg)] = { componentInputParameter: value.param };
      } else {
        try {
          taskParams[sanitizeInputName(arg)] = { runtimeValue: { constant: typedValue(value, parameterType(input.type)) } };
        } catch (e) {
          fail(`steps.${stepName}.args.${arg}`, (e as Error).message);
        }
      }
    }
    const dependentTasks = [...new Set([...step.after, ...(spec.volume ? [PVC_TASK] : [])])].sort();
    tasks[stepName] = {
      cachingOptions: { enableCache: true },
      componentRef: { name: `comp-${stepName}` },
      ...(dependentTasks.length ? { dependentTasks } : {}),
      ...(Object.keys(taskParams).length ? { inputs: { parameters: taskParams } } : {}),
      taskInfo: { name: stepName },
    };

    const platform: Record<string, unknown> = {};
    if (spec.volume) {
      const fromPvcTask = { taskOutputParameter: { outputParameterKey: 'name', producerTask: PVC_TASK } };
      platform.pvcMount = [{ mountPath: spec.volume.mountPath, pvcNameParameter: fromPvcTask, ...fromPvcTask }];
    }
    if (step.resources?.gpu) {
      // GPU nodes are commonly tainted; tolerate the taint so the step can schedule there.
      platform.tolerations = [{ effect: 'NoSchedule', key: step.resources.gpuType, operator: 'Exists' }];
    }
    if (Object.keys(platform).length) platformExecutors[`exec-${stepName}`] = platform;
  }
  if (problems.length) throw new ConfigError(problems);

  if (spec.volume) {
    compDefs[`comp-${PVC_TASK}`] = PVC_COMPONENT;
    executors[`exec-${PVC_TASK}`] = { container: { image: 'argostub/createpvc' } };
    tasks[PVC_TASK] = {
      cachingOptions: { enableCache: true },
      componentRef: { name: `comp-${PVC_TASK}` },
      inputs: {
        parameters: {
          access_modes: { runtimeValue: { constant: [spec.volume.accessMode] } },
          pvc_name_suffix: { runtimeValue: { constant: `-${spec.volume.name}` } },
          size: { runtimeValue: { constant: spec.volume.size } },
          ...(spec.volume.storageClass !== undefined ? { storage_class_name: { runtimeValue: { constant: spec.volume.storageClass } } } : {}),
        },
      },
      taskInfo: { name: PVC_TASK },
    };
  }

  const rootParams: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(spec.parameters)) {
    const type = parameterType(p.type);
    rootParams[name] = {
      parameterType: type,
      ...(p.default !== undefined ? { defaultValue: typedValue(p.default, type), isOptional: true } : {}),
      ...(p.description ? { description: p.description } : {}),
    };
  }

  const pipelineSpec = {
    components: compDefs,
    deploymentSpec: { executors },
    pipelineInfo: { name: spec.name, ...(spec.description ? { description: spec.description } : {}) },
    root: {
      dag: { tasks },
      ...(Object.keys(rootParams).length ? { inputDefinitions: { parameters: rootParams } } : {}),
    },
    schemaVersion: '2.1.0',
  };
  const platformSpec = Object.keys(platformExecutors).length
    ? { platforms: { kubernetes: { deploymentSpec: { executors: platformExecutors } } } }
    : undefined;
  return { pipelineSpec, platformSpec };
}

/** Both documents as one multi-document YAML file, keys sorted as KFP's compiler sorts them. */
export function renderPipelineYaml(pipeline: Pipeline, docs: PipelineDocuments): string {
  const opts = { sortMapEntries: true, lineWidth: 0, aliasDuplicateObjects: false, indentSeq: false } as const;
  const header = [
    '# PIPELINE DEFINITION',
    `# Name: ${pipeline.spec.name}`,
    ...(pipeline.spec.description ? [`# Description: ${pipeline.spec.description.replace(/\n/g, ' ')}`] : []),
    '# Generated by helmet-build from pipeline.yaml; edit that file, not this one.',
  ].join('\n');
  const first = stringify(docs.pipelineSpec, opts);
  return docs.platformSpec ? `${header}\n${first}---\n${stringify(docs.platformSpec, opts)}` : `${header}\n${first}`;
}
