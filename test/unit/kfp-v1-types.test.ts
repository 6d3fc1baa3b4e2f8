/**
 * KFP v1 input types as kfp reads them: an input read with `inputValue` is a value whatever its type
 * name (`GCSPath`, `{GCSPath: {data_type: CSV}}`, `UI metadata`), one read with `inputPath` a file.
 * The v1 package passes such a value as an Argo parameter (kfp 1.8's compiler resolves `inputValue`
 * to `{{inputs.parameters…}}`); the v2 spec types it STRING, as kfp 2.x compiles the same component
 * with the input typed `String`, and says so once per component.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ConfigError } from '../../src/errors.js';
import type { HelmetEvent } from '../../src/events.js';
import { runBuild } from '../../src/flow/build.js';
import { buildArgoWorkflow, renderArgoWorkflow } from '../../src/kfp/argo-workflow.js';
import { buildPipelineDocuments, renderPipelineYaml } from '../../src/kfp/pipeline-spec.js';
import { valueReadFileInputs } from '../../src/project/input-readings.js';
import { loadProject } from '../../src/project/load-project.js';
import { FakeWorld } from '../support/fake-world.js';
import { type FileTree, TINY_DOCKERFILE, writeTree } from '../support/project.js';

const IMAGE = `registry.example.com/ml/roc@sha256:${'1'.repeat(64)}`;
const ROC = `name: ROC curve
inputs:
  - {name: predictions, type: GCSPath, description: 'GCS path of prediction file pattern.'}
  - {name: target lambda, type: String, default: ''}
  - {name: output dir, type: {GCSPath: {data_type: CSV}}}
  - {name: schema, type: UI metadata}
implementation:
  container:
    image: ${IMAGE}
    command: [python2, /ml/roc.py, --predictions, {inputValue: predictions}, --target_lambda, {inputValue: target lambda},
      --output, {inputValue: output dir}, --schema, {inputPath: schema}]
`;

describe('KFP v1 types read as kfp reads them', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  function load(files: FileTree) {
    const root = mkdtempSync(join(tmpdir(), 'helmet-v1types-'));
    dirs.push(root);
    writeTree(root, files);
    return loadProject(root);
  }
  const pipeline = (args: string) =>
    `name: roc\nsteps:\n  schema-step: {component: schemer}\n  roc:\n    component: roc\n    args: {${args}, schema: {from: schema-step, output: schema}}\n`;
  const files = (args: string): FileTree => ({
    'components/roc/component.yaml': ROC,
    'components/schemer/component.yaml': `name: schemer\noutputs:\n  - {name: schema, type: UI metadata}\nimplementation:\n  container:\n    image: ${IMAGE}\n    command: [sh, -c, echo, {outputPath: schema}]\n`,
    'pipeline.yaml': pipeline(args),
  });

  it('a GCSPath read with inputValue takes a string from pipeline.yaml; one read with inputPath stays a file', () => {
    const project = load(files(`predictions: gs://bucket/predict/*.csv, output dir: gs://bucket/out`));
    const roc = project.pipeline!.steps.find((s) => s.name === 'roc')!;
    expect(roc.inputs.map((i) => [i.name, i.kind, i.type])).toEqual([
      ['predictions', 'parameter', 'STRING'],
      ['target lambda', 'parameter', 'STRING'],
      ['output dir', 'parameter', 'STRING'],
      ['schema', 'artifact', 'STRING'],
    ]);
    expect(roc.args.predictions).toEqual({ kind: 'constant', value: 'gs://bucket/predict/*.csv' });
    expect(valueReadFileInputs(project.components.find((c) => c.name === 'roc')!.spec)).toEqual(['predictions', 'output dir']);
  });

  it('a string for an input read with inputPath is still refused', () => {
    expect(() => load(files(`predictions: gs://b/p, output dir: gs://b/o, schema: gs://b/s`))).toThrow(ConfigError);
  });

  it('the v2 spec types those inputs STRING; the v1 package passes them as values, not artifacts', async () => {
    const project = load({
      ...files(`predictions: {param: preds}, output dir: gs://bucket/out`),
      'pipeline.yaml': `name: roc\nparameters:\n  preds: {type: String, default: 'gs://bucket/predict/*.csv'}\n${pipeline('predictions: {param: preds}, output dir: gs://bucket/out').replace('name: roc\n', '')}`,
    });
    const images = new Map(project.components.map((c) => [c.name, IMAGE]));
    const [ir] = parseAllDocuments(await renderPipelineYaml(project.pipeline!, buildPipelineDocuments(project.pipeline!, images))).map((d) => d.toJS()) as [
      Record<string, any>,
    ];
    expect(ir.components['comp-roc'].inputDefinitions.parameters.predictions).toEqual({
      parameterType: 'STRING',
      description: 'GCS path of prediction file pattern.',
    });
    expect(ir.components['comp-roc'].inputDefinitions.artifacts.schema).toBeDefined();
    expect(ir.root.dag.tasks.roc.inputs.parameters.predictions).toEqual({ componentInputParameter: 'preds' });
    expect(ir.root.dag.tasks.roc.inputs.parameters.output_dir).toEqual({ runtimeValue: { constant: 'gs://bucket/out' } });

    const v1Files = new Map(project.components.map((c) => [c.name, { image: IMAGE, text: readFileSync(join(project.root, c.file), 'utf8'), url: c.file }]));
    const workflow = parse(renderArgoWorkflow(buildArgoWorkflow(project.pipeline!, v1Files, '2026-01-01T00:00:00')));
    const rocTemplate = workflow.spec.templates.find((t: { name: string }) => t.name === 'roc');
    // As kfp 1.8 compiles inputValue: a pipeline parameter as an Argo parameter, a constant inlined.
    expect(rocTemplate.container.command).toEqual(expect.arrayContaining(['--predictions', '{{inputs.parameters.preds}}', '--output', 'gs://bucket/out']));
    expect(rocTemplate.inputs.parameters).toEqual([{ name: 'preds' }]);
    expect(rocTemplate.inputs.artifacts.map((a: { name: string }) => a.name)).toEqual(['schema-step-schema']);
  });

  it('all --push says once per component which inputs the v2 spec types String, naming the file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'helmet-v1types-'));
    dirs.push(root);
    writeTree(root, {
      ...TINY_DOCKERFILE,
      'components/roc/component.yaml': `${ROC.replace(`    image: ${IMAGE}\n`, '')}build: {image: roc, dockerfile: dockerfiles/tiny.Dockerfile}\n`,
      'components/schemer/component.yaml': `name: schemer\noutputs:\n  - {name: schema, type: UI metadata}\nimplementation:\n  container:\n    image: ${IMAGE}\n    command: [sh, -c, echo, {outputPath: schema}]\n`,
      'pipeline.yaml': `name: roc\nsteps:\n  schema-step: {component: schemer}\n  a:\n    component: roc\n    args: {predictions: gs://b/p, output dir: gs://b/o, schema: {from: schema-step, output: schema}}\n  b:\n    component: roc\n    args: {predictions: gs://b/q, output dir: gs://b/o, schema: {from: schema-step, output: schema}}\n`,
    });
    const world = new FakeWorld();
    const events: HelmetEvent[] = [];
    expect((await runBuild({ root, push: 'reg.example/team' }, world.deps(events))).exitCode).toBe(0);
    const warnings = events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
    expect(warnings.filter((w) => w.includes('read with inputValue'))).toEqual([
      'components/roc/component.yaml: inputs "predictions", "output dir" of a file type are read with inputValue: a value in the KFP v1 package, as kfp 1.x reads it; the v2 spec types them String, since kfp 2.x would make them files and refuse a value',
    ]);
  });
});
