import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildPipelineDocuments, renderPipelineYaml } from '../../src/kfp/pipeline-spec.js';
import { loadProject } from '../../src/project/load-project.js';
import { FILES_PROJECT, makeProject } from '../support/project.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function emit(root: string): Promise<{ text: string; ir: Record<string, any> }> {
  const project = loadProject(root);
  const images = new Map(project.components.map((c) => [c.name, `r/${c.name}@sha256:${'0'.repeat(64)}`]));
  const text = await renderPipelineYaml(project.pipeline!, buildPipelineDocuments(project.pipeline!, images));
  return { text, ir: parseAllDocuments(text)[0]!.toJS() };
}

describe('file inputs and outputs in the emitted KFP v2 pipeline spec', () => {
  it('declares artifacts and output parameters, with the placeholders and task bindings KFP compiles v1 components to', async () => {
    const p = makeProject(FILES_PROJECT);
    cleanups.push(p.cleanup);
    const { text, ir } = await emit(p.root);
    expect(ir.components['comp-make']).toEqual({
      executorLabel: 'exec-make',
      outputDefinitions: {
        artifacts: { data: { artifactType: { schemaTitle: 'system.Dataset', schemaVersion: '0.0.1' } } },
        parameters: { row_count: { parameterType: 'NUMBER_INTEGER' } },
      },
    });
    expect(ir.components['comp-use']).toEqual({
      executorLabel: 'exec-use',
      inputDefinitions: {
        artifacts: { table: { artifactType: { schemaTitle: 'system.Dataset', schemaVersion: '0.0.1' } } },
        parameters: { rows: { parameterType: 'NUMBER_INTEGER' } },
      },
      // An output without a type is a plain artifact, as KFP reads v1 components.
      outputDefinitions: { artifacts: { summary: { artifactType: { schemaTitle: 'system.Artifact', schemaVersion: '0.0.1' } } } },
    });
    expect(ir.deploymentSpec.executors['exec-make'].container.command.slice(3)).toEqual([
      "{{$.outputs.artifacts['data'].path}}",
      "{{$.outputs.parameters['row_count'].output_file}}",
    ]);
    expect(ir.deploymentSpec.executors['exec-use'].container.command.slice(3)).toEqual([
      "{{$.inputs.artifacts['table'].path}}",
      "{{$.inputs.parameters['rows']}}",
      "{{$.outputs.artifacts['summary'].path}}",
    ]);
    expect(ir.root.dag.tasks.use).toMatchObject({
      dependentTasks: ['make'],
      inputs: {
        artifacts: { table: { taskOutputArtifact: { outputArtifactKey: 'data', producerTask: 'make' } } },
        parameters: { rows: { taskOutputParameter: { outputParameterKey: 'row_count', producerTask: 'make' } } },
      },
    });
    // Emitting again gives the same bytes.
    expect((await emit(p.root)).text).toBe(text);
  });

  it("an output parameter has the shape of KFP's own compiled container_io example", async () => {
    const example = parseAllDocuments(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'kfp', 'example-ir-container_io.yaml'), 'utf8'))[0]!.toJS();
    const p = makeProject(FILES_PROJECT);
    cleanups.push(p.cleanup);
    const { ir } = await emit(p.root);
    const theirs = example.components['comp-container-io'].outputDefinitions.parameters.output_path;
    expect(ir.components['comp-make'].outputDefinitions.parameters.row_count).toEqual({ ...theirs, parameterType: 'NUMBER_INTEGER' });
    expect(example.deploymentSpec.executors['exec-container-io'].container.args[1]).toBe("{{$.outputs.parameters['output_path'].output_file}}");
  });
});
