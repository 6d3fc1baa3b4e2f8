/**
 * The v1 package for pipelines the reference packages do not cover, each expectation derived from
 * kfp 1.8.22's compiler code and naming the behaviour it pins; then a walk over the workflows that
 * checks they hold together (images pinned by digest, an acyclic DAG, every reference resolves).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildArgoWorkflow, renderArgoWorkflow, type V1ComponentFile } from '../../src/kfp/argo-workflow.js';
import { loadProject } from '../../src/project/load-project.js';
import type { Project } from '../../src/project/model.js';
import { type FileTree, writeTree } from '../support/project.js';

const REPO = join(import.meta.dirname, '..', '..');
const V1_ARGO = join(REPO, 'test', 'fixtures', 'kfp-v1-argo');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const digest = (i: number) => `registry.example.com/ml/c${i}@sha256:${String(i).repeat(64)}`;

function load(files: FileTree): Project {
  const root = mkdtempSync(join(tmpdir(), 'helmet-v1-'));
  dirs.push(root);
  writeTree(root, files);
  return loadProject(root);
}

function render(project: Project): string {
  const files = new Map<string, V1ComponentFile>();
  project.components.forEach((c, i) => {
    files.set(c.name, { image: c.kind === 'prebuilt' ? c.image : digest(i + 1), text: readFileSync(join(project.root, c.file), 'utf8'), url: c.file });
  });
  return renderArgoWorkflow(buildArgoWorkflow(project.pipeline!, files, '2026-01-01T00:00:00'));
}

const prebuilt = (i: number, body: string) => `${body}implementation:\n  container:\n    image: ${digest(i)}\n`;
const DATA_PASSING: FileTree = {
  'components/producer/component.yaml':
    prebuilt(
      1,
      [
        'inputs:',
        '- {name: n, type: Integer, default: "3"}',
        '- {name: ratio, type: Float, default: "1"}',
        '- {name: unused, type: String, default: keep}',
        'outputs:',
        '- {name: data, type: Dataset}',
        '- {name: rows, type: Integer}',
        '',
      ].join('\n'),
    ).replace('\n', '\n') +
    '    command: [produce]\n    args: [--out, {outputPath: data}, --rows, {outputPath: rows}, --n, {inputValue: n}, --ratio, {inputValue: ratio}]\n',
  'components/consumer/component.yaml':
    prebuilt(2, 'inputs:\n- {name: table, type: Dataset}\n- {name: rows, type: Integer}\n- {name: flag, type: Boolean}\n') +
    '    command: [consume]\n    args: [--table, {inputPath: table}, --rows, {inputValue: rows}, --flag, {inputValue: flag}]\n',
  'components/waiter/component.yaml': `${prebuilt(3, '')}    command: [echo, done]\n`,
  'pipeline.yaml': [
    'name: passing',
    'parameters: {label: {type: String, default: x}}',
    'steps:',
    '  make: {component: producer}',
    '  use: {component: consumer, args: {table: {from: make, output: data}, rows: {from: make, output: rows}, flag: true}}',
    '  last: {component: waiter, after: [use]}',
    '',
  ].join('\n'),
};

describe('the v1 package of a pipeline passing files and values between steps', () => {
  const text = render(load(DATA_PASSING));
  const wf = parse(text);
  const template = (name: string) => wf.spec.templates.find((t: any) => t.name === name);
  const task = (name: string) => template('passing').dag.tasks.find((t: any) => t.name === name);

  it('every declared output is a file under /tmp/outputs; only outputs read as values stay parameters (_set_metadata, fix_big_data_passing)', () => {
    expect(template('make').outputs).toEqual({
      parameters: [{ name: 'make-rows', valueFrom: { path: '/tmp/outputs/rows/data' } }],
      artifacts: [
        { name: 'make-data', path: '/tmp/outputs/data/data' },
        { name: 'make-rows', path: '/tmp/outputs/rows/data' },
      ],
    });
  });

  it('defaults of Integer and Float inputs go through int() and float() (_create_container_op_from_component_and_arguments)', () => {
    expect(template('make').container.args).toEqual(['--out', '/tmp/outputs/data/data', '--rows', '/tmp/outputs/rows/data', '--n', '3', '--ratio', '1.0']);
  });

  it('an input with a value that no placeholder reads becomes a raw input artifact (_set_metadata artifact_arguments)', () => {
    expect(template('make').inputs).toEqual({ artifacts: [{ name: 'unused', path: '/tmp/inputs/unused/data', raw: { data: 'keep' } }] });
  });

  it('a file input is an artifact named after the producer output at /tmp/inputs/<input>/data; a literal Boolean is str(True)', () => {
    expect(template('use').inputs).toEqual({ parameters: [{ name: 'make-rows' }], artifacts: [{ name: 'make-data', path: '/tmp/inputs/table/data' }] });
    expect(template('use').container.args).toEqual(['--table', '/tmp/inputs/table/data', '--rows', '{{inputs.parameters.make-rows}}', '--flag', 'True']);
    expect(JSON.parse(template('use').metadata.annotations['pipelines.kubeflow.org/arguments.parameters'])).toEqual({
      flag: 'True',
      rows: '{{inputs.parameters.make-rows}}',
    });
  });

  it('the DAG passes the file as an artifact and the value as a parameter, and runs the consumer after the producer', () => {
    expect(task('use')).toEqual({
      name: 'use',
      template: 'use',
      dependencies: ['make'],
      arguments: {
        parameters: [{ name: 'make-rows', value: '{{tasks.make.outputs.parameters.make-rows}}' }],
        artifacts: [{ name: 'make-data', from: '{{tasks.make.outputs.artifacts.make-data}}' }],
      },
    });
  });

  it('after: without data is a dependency only; a component without args gets args: [] (as_string_list of an empty list)', () => {
    expect(task('last')).toEqual({ name: 'last', template: 'last', dependencies: ['use'] });
    expect(template('last').container).toEqual({ args: [], command: ['echo', 'done'], image: digest(3) });
    expect(text).toContain('    container:\n      args: []\n      command: [echo, done]\n');
  });

  it('a parameter no step uses is in spec.arguments but not an input of the DAG (_get_inputs_outputs)', () => {
    expect(wf.spec.arguments).toEqual({ parameters: [{ name: 'label', value: 'x' }] });
    expect(template('passing').inputs).toBeUndefined();
  });
});

/** Walk a workflow: images, DAG order, and every placeholder against what it names. */
function checkWorkflow(wf: any): void {
  const templates = new Map<string, any>(wf.spec.templates.map((t: any) => [t.name, t]));
  expect(templates.has(wf.spec.entrypoint)).toBe(true);
  const params = (t: any, side: 'inputs' | 'outputs') => new Set((t?.[side]?.parameters ?? []).map((p: any) => p.name));
  const artifacts = (t: any, side: 'inputs' | 'outputs') => new Set((t?.[side]?.artifacts ?? []).map((p: any) => p.name));
  for (const t of templates.values()) {
    if (t.container) expect(t.container.image, t.name).toMatch(/@sha256:[0-9a-f]{64}$/);
    for (const m of JSON.stringify({ ...t, dag: undefined }).matchAll(/\{\{inputs\.parameters\.([-_a-zA-Z0-9]+)\}\}/g)) {
      expect(params(t, 'inputs'), `${t.name}: ${m[0]}`).toContain(m[1]);
    }
    if (!t.dag) continue;
    const tasks = new Map<string, any>(t.dag.tasks.map((x: any) => [x.name, x]));
    for (const task of tasks.values()) {
      const callee = templates.get(task.template);
      expect(callee, task.template).toBeDefined();
      for (const d of task.dependencies ?? []) expect(tasks.has(d), `${task.name} depends on ${d}`).toBe(true);
      // Every input the template declares is given, and nothing else.
      expect(new Set((task.arguments?.parameters ?? []).map((p: any) => p.name))).toEqual(params(callee, 'inputs'));
      const given = new Set((task.arguments?.artifacts ?? []).map((p: any) => p.name));
      for (const a of artifacts(callee, 'inputs')) if (!callee.inputs.artifacts.find((x: any) => x.name === a).raw) expect(given).toContain(a);
      for (const m of JSON.stringify(task.arguments ?? {}).matchAll(/\{\{inputs\.parameters\.([-_a-zA-Z0-9]+)\}\}/g)) {
        expect(params(t, 'inputs'), m[0]).toContain(m[1]);
      }
      for (const m of JSON.stringify(task.arguments ?? {}).matchAll(/\{\{tasks\.([-_a-zA-Z0-9]+)\.outputs\.(parameters|artifacts)\.([-_a-zA-Z0-9]+)\}\}/g)) {
        expect(task.dependencies, m[0]).toContain(m[1]);
        const producer = templates.get(tasks.get(m[1]!).template);
        expect(m[2] === 'parameters' ? params(producer, 'outputs') : artifacts(producer, 'outputs'), m[0]).toContain(m[3]);
      }
    }
    // Acyclic: a topological order consumes every task.
    const done = new Set<string>();
    let progress = true;
    while (progress) {
      progress = false;
      for (const task of tasks.values())
        if (!done.has(task.name) && (task.dependencies ?? []).every((d: string) => done.has(d))) {
          done.add(task.name);
          progress = true;
        }
    }
    expect(done.size, `${t.name} has a cycle`).toBe(tasks.size);
  }
}

describe('walking the v1 packages', () => {
  it.each([
    ['the data-passing pipeline', () => parse(render(load(DATA_PASSING)))],
    ['the helmet reference (kfp 1.8.22)', () => parse(readFileSync(join(V1_ARGO, 'helmet', 'helmet-detection.v1.yaml'), 'utf8'))],
    ['this repository pipeline.yaml', () => parse(render(loadProject(REPO)))],
  ])('%s: images pinned, DAG acyclic, every reference resolves', (_, workflow) => {
    checkWorkflow(workflow());
  });
});
