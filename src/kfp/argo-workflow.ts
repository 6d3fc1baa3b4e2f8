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

import type { Pipeline } from '../project/model.js';
import { passFilesAsArtifacts } from './data-passing.js';
import { opName, pythonJson, sanitizeK8sName, uniqueName } from './python-text.js';
import { dumpYaml } from './pyyaml-dump.js';
import { containerOp } from './v1-container-op.js';
import {
  byName,
  type Json,
  KFP_SDK_VERSION,
  type Op,
  placeholderOf,
  podLabels,
  SDK_VERSION_LABEL,
  serialize,
  V1_TYPE_NAMES,
  type V1ComponentFile,
  type Volume,
} from './v1-op.js';

export { KFP_SDK_VERSION, type V1ComponentFile } from './v1-op.js';

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

  const metadata = workflow.metadata as Json;
  metadata.annotations = {
    [SDK_VERSION_LABEL]: KFP_SDK_VERSION,
    'pipelines.kubeflow.org/pipeline_compilation_time': compiledAt,
    'pipelines.kubeflow.org/pipeline_spec': pythonJson(pipelineInterface(pipeline, parameters)),
  };
  metadata.labels = { [SDK_VERSION_LABEL]: KFP_SDK_VERSION };
  return workflow;
}

/** The `pipeline_spec` annotation: the interface kfp extracts from the pipeline function. */
function pipelineInterface(pipeline: Pipeline, parameters: { name: string; type?: string; default?: string; description?: string }[]) {
  return {
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
}

/** The package's text: the workflow as kfp's `dump_yaml` writes it. */
export function renderArgoWorkflow(workflow: Json): string {
  return dumpYaml(workflow, { flow: 'auto', sortKeys: false, kfpStrings: true });
}
