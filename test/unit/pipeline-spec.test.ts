import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildPipelineDocuments, renderPipelineYaml } from '../../src/kfp/pipeline-spec.js';
import { loadProject } from '../../src/project/load-project.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'kfp');

async function emitRepoPipeline(): Promise<{ text: string; docs: Record<string, any>[] }> {
  const project = loadProject(ROOT);
  const pipeline = project.pipeline!;
  const images = new Map(
    project.components.map((c, i) => [c.name, `localhost:5000/helmet/${c.kind === 'built' ? c.build.image : c.name}@sha256:${String(i).repeat(64)}`]),
  );
  const text = await renderPipelineYaml(pipeline, buildPipelineDocuments(pipeline, images));
  return { text, docs: parseAllDocuments(text).map((d) => d.toJS()) };
}

function example(name: string): Record<string, any>[] {
  return parseAllDocuments(readFileSync(join(FIXTURES, name), 'utf8')).map((d) => d.toJS());
}

const { text, docs } = await emitRepoPipeline();

describe('the emitted KFP v2 pipeline spec for pipeline.yaml', () => {
  const [ir, platform] = docs as [Record<string, any>, Record<string, any>];

  it('is two YAML documents: the pipeline spec and the Kubernetes platform spec', () => {
    expect(docs).toHaveLength(2);
    expect(ir.schemaVersion).toBe('2.1.0');
    expect(ir.pipelineInfo.name).toBe('helmet-detection');
    expect(Object.keys(platform)).toEqual(['platforms']);
  });

  it('every task has its component, and every component its executor', () => {
    for (const [name, task] of Object.entries<any>(ir.root.dag.tasks)) {
      expect(task.taskInfo.name).toBe(name);
      const comp = ir.components[task.componentRef.name];
      expect(comp, name).toBeDefined();
      expect(ir.deploymentSpec.executors[comp.executorLabel], name).toBeDefined();
    }
  });

  it('runs ingest -> prepare -> train -> rknn-convert after the PVC is created', () => {
    const deps = Object.fromEntries(Object.entries<any>(ir.root.dag.tasks).map(([n, t]) => [n, t.dependentTasks ?? []]));
    expect(deps).toEqual({
      createpvc: [],
      ingest: ['createpvc'],
      prepare: ['createpvc', 'ingest'],
      train: ['createpvc', 'prepare'],
      'rknn-convert': ['createpvc', 'train'],
    });
  });

  it('placeholders name declared inputs, and task inputs bind declared pipeline parameters', () => {
    const rootParams = Object.keys(ir.root.inputDefinitions.parameters);
    expect(rootParams).toEqual(expect.arrayContaining(['dataurl', 'datapath', 'epochs', 'device', 'workers', 'model_export']));
    for (const task of Object.values<any>(ir.root.dag.tasks)) {
      const comp = ir.components[task.componentRef.name];
      const declared = Object.keys(comp.inputDefinitions?.parameters ?? {});
      const exec = ir.deploymentSpec.executors[comp.executorLabel].container;
      for (const item of [...(exec.command ?? []), ...(exec.args ?? [])]) {
        for (const m of String(item).matchAll(/\{\{\$\.inputs\.parameters\['([^']+)'\]\}\}/g)) expect(declared).toContain(m[1]);
      }
      for (const [name, binding] of Object.entries<any>(task.inputs?.parameters ?? {})) {
        expect(declared).toContain(name);
        if (binding.componentInputParameter) expect(rootParams).toContain(binding.componentInputParameter);
      }
    }
    expect(ir.root.dag.tasks.train.inputs.parameters.epochs).toEqual({ componentInputParameter: 'epochs' });
    expect(ir.root.inputDefinitions.parameters.epochs).toEqual({ parameterType: 'NUMBER_INTEGER', defaultValue: 100, isOptional: true });
  });

  it('pins every step image by digest', () => {
    for (const [name, exec] of Object.entries<any>(ir.deploymentSpec.executors)) {
      if (name === 'exec-createpvc') continue;
      expect(exec.container.image).toMatch(/@sha256:[0-9a-f]{64}$/);
    }
  });

  it('gives train one NVIDIA GPU, 2 CPUs and 8G of memory, as KFP writes them', () => {
    expect(ir.deploymentSpec.executors['exec-train'].container.resources).toEqual({
      accelerator: { count: '1', resourceCount: '1', resourceType: 'nvidia.com/gpu', type: 'nvidia.com/gpu' },
      cpuRequest: 2,
      resourceCpuRequest: '2',
      memoryRequest: 8,
      resourceMemoryRequest: '8G',
    });
    const gpuExample = example('example-ir-gpu.yaml')[0]!;
    expect(Object.keys(ir.deploymentSpec.executors['exec-train'].container.resources.accelerator).sort()).toEqual(
      Object.keys(gpuExample.deploymentSpec.executors['exec-verify-gpu-scheduled'].container.resources.accelerator).sort(),
    );
    expect(platform.platforms.kubernetes.deploymentSpec.executors['exec-train'].tolerations).toEqual(
      example('example-ir-gpu.yaml')[1]!.platforms.kubernetes.deploymentSpec.executors['exec-verify-gpu-scheduled'].tolerations,
    );
  });

  it('creates the PVC and mounts it into every step executor, in the shape of KFP kubernetes extension', () => {
    const [pvcIr, pvcPlatform] = example('example-ir-pvc.yaml') as [any, any];
    expect(Object.keys(ir.components['comp-createpvc'].inputDefinitions.parameters).sort()).toEqual(
      Object.keys(pvcIr.components['comp-createpvc'].inputDefinitions.parameters).sort(),
    );
    expect(ir.deploymentSpec.executors['exec-createpvc']).toEqual(pvcIr.deploymentSpec.executors['exec-createpvc']);
    expect(ir.root.dag.tasks.createpvc.inputs.parameters).toEqual({
      access_modes: { runtimeValue: { constant: ['ReadWriteOnce'] } },
      pvc_name_suffix: { runtimeValue: { constant: '-helmet-data' } },
      size: { runtimeValue: { constant: '10Gi' } },
    });
    const mounts = platform.platforms.kubernetes.deploymentSpec.executors;
    const exampleMount = pvcPlatform.platforms.kubernetes.deploymentSpec.executors['exec-consumer'].pvcMount[0];
    for (const step of ['ingest', 'prepare', 'train', 'rknn-convert']) {
      expect(mounts[`exec-${step}`].pvcMount).toEqual([{ ...exampleMount, mountPath: '/VOCdevkit' }]);
    }
  });

  it('is byte-identical when emitted twice', async () => {
    expect((await emitRepoPipeline()).text).toBe(text);
  });
});
