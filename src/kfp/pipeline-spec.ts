/**
 * Render a KFP v2 pipeline spec (IR YAML, schemaVersion 2.1.0) for pipeline.yaml, followed by the
 * Kubernetes platform spec that creates the shared PVC and mounts it into every executor — the two
 * documents KFP's compiler and its kubernetes extension write, ready to upload in the KFP UI.
 * Pure rendering of a loaded pipeline: every input problem was reported by the loader.
 */
import type { Pipeline, PipelineStep } from '../project/model.js';
import type { StepResources } from '../project/pipeline-schema.js';
import { renderV2, sanitizeInputName } from '../project/placeholders.js';

/** The task kfp-kubernetes' CreatePVC adds, which every step runs after. */
const PVC_TASK = 'createpvc';

function inputParam(name: string): string {
  return `{{$.inputs.parameters['${sanitizeInputName(name)}']}}`;
}

/** `{key: {artifacts, parameters}}` with only the non-empty halves, or nothing. */
function definitions(key: string, artifacts: Record<string, unknown>, parameters: Record<string, unknown>): Record<string, unknown> {
  const body = {
    ...(Object.keys(artifacts).length ? { artifacts } : {}),
    ...(Object.keys(parameters).length ? { parameters } : {}),
  };
  return Object.keys(body).length ? { [key]: body } : {};
}

/** Kubernetes quantity → KFP's legacy float fields (CPU in cores, memory in GB). */
function cpuCores(q: string | number): number {
  const s = String(q);
  return s.endsWith('m') ? Number(s.slice(0, -1)) / 1000 : Number(s);
}
const MEMORY_UNITS: Record<string, number> = {
  '': 1e-9,
  k: 1e-6,
  M: 1e-3,
  G: 1,
  T: 1e3,
  Ki: 1024 / 1e9,
  Mi: 1024 ** 2 / 1e9,
  Gi: 1024 ** 3 / 1e9,
  Ti: 1024 ** 4 / 1e9,
};
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

type Doc = Record<string, unknown>;

/** Build both documents. `images` maps component names to pinned references, one for every step's component. */
export function buildPipelineDocuments(pipeline: Pipeline, images: Map<string, string>): PipelineDocuments {
  const compDefs: Doc = {};
  const executors: Doc = {};
  const tasks: Doc = {};
  const platformExecutors: Doc = {};
  const volume = pipeline.volume;
  for (const step of pipeline.steps) {
    const image = images.get(step.component.name);
    if (!image) throw new Error(`no pinned image for component ${step.component.name} (step ${step.name})`);
    compDefs[`comp-${step.name}`] = componentDefinition(step);
    executors[`exec-${step.name}`] = executor(step, image);
    tasks[step.name] = task(step, volume !== undefined);
    const platform = platformExecutor(step, volume);
    if (Object.keys(platform).length) platformExecutors[`exec-${step.name}`] = platform;
  }
  if (volume) {
    compDefs[`comp-${PVC_TASK}`] = PVC_COMPONENT;
    executors[`exec-${PVC_TASK}`] = { container: { image: 'argostub/createpvc' } };
    tasks[PVC_TASK] = pvcTask(volume);
  }
  const rootParams = rootParameters(pipeline);
  const pipelineSpec = {
    components: compDefs,
    deploymentSpec: { executors },
    pipelineInfo: { name: pipeline.name, ...(pipeline.description ? { description: pipeline.description } : {}) },
    root: {
      dag: { tasks },
      ...(Object.keys(rootParams).length ? { inputDefinitions: { parameters: rootParams } } : {}),
    },
    schemaVersion: '2.1.0',
  };
  const platformSpec = Object.keys(platformExecutors).length ? { platforms: { kubernetes: { deploymentSpec: { executors: platformExecutors } } } } : undefined;
  return { pipelineSpec, platformSpec };
}

/** The step's component: its inputs and outputs, parameters and artifacts apart. */
function componentDefinition(step: PipelineStep): Doc {
  const inputParams: Doc = {};
  const inputArtifacts: Doc = {};
  for (const input of step.inputs) {
    const def = {
      ...(input.kind === 'artifact' ? { artifactType: input.artifactType } : { parameterType: input.type }),
      ...(input.description ? { description: input.description } : {}),
      ...(input.default !== undefined ? { defaultValue: input.default } : {}),
      ...(input.optional ? { isOptional: true } : {}),
    };
    (input.kind === 'artifact' ? inputArtifacts : inputParams)[sanitizeInputName(input.name)] = def;
  }
  const outputParams: Doc = {};
  const outputArtifacts: Doc = {};
  for (const output of step.outputs) {
    if (output.kind === 'artifact') outputArtifacts[sanitizeInputName(output.name)] = { artifactType: output.artifactType };
    else outputParams[sanitizeInputName(output.name)] = { parameterType: output.type };
  }
  return {
    executorLabel: `exec-${step.name}`,
    ...definitions('inputDefinitions', inputArtifacts, inputParams),
    ...definitions('outputDefinitions', outputArtifacts, outputParams),
  };
}

/** The container the step runs: the pinned image, the command line with KFP's placeholders, env, resources. */
function executor(step: PipelineStep, image: string): Doc {
  const render = (items: typeof step.command) => items?.map((item) => renderV2(item, inputParam));
  const resources = step.resources ? resourcesSpec(step.resources) : undefined;
  return {
    container: {
      image,
      ...(step.command ? { command: render(step.command) } : {}),
      ...(step.commandArgs ? { args: render(step.commandArgs) } : {}),
      ...(step.env.length ? { env: step.env.map((e) => ({ name: e.name, value: renderV2(e.value, inputParam) })) } : {}),
      ...(resources ? { resources } : {}),
    },
  };
}

/** The DAG task: where each argument comes from, and what it runs after. */
function task(step: PipelineStep, afterPvc: boolean): Doc {
  const taskParams: Doc = {};
  const taskArtifacts: Doc = {};
  for (const [arg, value] of Object.entries(step.args)) {
    const key = sanitizeInputName(arg);
    if (value.kind === 'parameter') taskParams[key] = { componentInputParameter: value.parameter };
    else if (value.kind === 'constant') taskParams[key] = { runtimeValue: { constant: value.value } };
    else if (step.inputs.find((i) => i.name === arg)!.kind === 'artifact') {
      taskArtifacts[key] = { taskOutputArtifact: { outputArtifactKey: sanitizeInputName(value.output), producerTask: value.step } };
    } else {
      taskParams[key] = { taskOutputParameter: { outputParameterKey: sanitizeInputName(value.output), producerTask: value.step } };
    }
  }
  const dependentTasks = [...new Set([...step.after, ...(afterPvc ? [PVC_TASK] : [])])].sort();
  return {
    cachingOptions: { enableCache: true },
    componentRef: { name: `comp-${step.name}` },
    ...(dependentTasks.length ? { dependentTasks } : {}),
    ...definitions('inputs', taskArtifacts, taskParams),
    taskInfo: { name: step.name },
  };
}

/** What kfp-kubernetes adds to the step's executor: the PVC mount, pull secrets, the GPU toleration. */
function platformExecutor(step: PipelineStep, volume: Pipeline['volume']): Doc {
  const platform: Doc = {};
  if (volume) {
    const fromPvcTask = { taskOutputParameter: { outputParameterKey: 'name', producerTask: PVC_TASK } };
    platform.pvcMount = [{ mountPath: volume.mountPath, pvcNameParameter: fromPvcTask, ...fromPvcTask }];
  }
  if (step.imagePullSecrets.length) {
    // As kfp-kubernetes' set_image_pull_secrets writes it.
    platform.imagePullSecret = step.imagePullSecrets.map((name) => ({ secretName: name, secretNameParameter: { runtimeValue: { constant: name } } }));
  }
  if (step.resources?.gpu) {
    // GPU nodes are commonly tainted; tolerate the taint so the step can schedule there.
    platform.tolerations = [{ effect: 'NoSchedule', key: step.resources.gpuType, operator: 'Exists' }];
  }
  return platform;
}

function pvcTask(volume: NonNullable<Pipeline['volume']>): Doc {
  return {
    cachingOptions: { enableCache: true },
    componentRef: { name: `comp-${PVC_TASK}` },
    inputs: {
      parameters: {
        access_modes: { runtimeValue: { constant: [volume.accessMode] } },
        pvc_name_suffix: { runtimeValue: { constant: `-${volume.name}` } },
        size: { runtimeValue: { constant: volume.size } },
        ...(volume.storageClass !== undefined ? { storage_class_name: { runtimeValue: { constant: volume.storageClass } } } : {}),
      },
    },
    taskInfo: { name: PVC_TASK },
  };
}

function rootParameters(pipeline: Pipeline): Doc {
  const rootParams: Doc = {};
  for (const p of pipeline.parameters) {
    rootParams[p.name] = {
      parameterType: p.type,
      ...(p.default !== undefined ? { defaultValue: p.default, isOptional: true } : {}),
      ...(p.description ? { description: p.description } : {}),
    };
  }
  return rootParams;
}

/**
 * Both documents as one multi-document YAML file, keys sorted as KFP's compiler sorts them. Async:
 * the YAML writer is loaded on first use, so a run that renders nothing never loads it.
 */
export async function renderPipelineYaml(pipeline: Pipeline, docs: PipelineDocuments): Promise<string> {
  const { stringify } = await import('./yaml-writer.js');
  const opts = { sortMapEntries: true, lineWidth: 0, aliasDuplicateObjects: false, indentSeq: false } as const;
  const header = [
    '# PIPELINE DEFINITION',
    `# Name: ${pipeline.name}`,
    ...(pipeline.description ? [`# Description: ${pipeline.description.replace(/\n/g, ' ')}`] : []),
    '# Generated by helmet-build from pipeline.yaml; edit that file, not this one.',
  ].join('\n');
  const first = stringify(docs.pipelineSpec, opts);
  return docs.platformSpec ? `${header}\n${first}---\n${stringify(docs.platformSpec, opts)}` : `${header}\n${first}`;
}
