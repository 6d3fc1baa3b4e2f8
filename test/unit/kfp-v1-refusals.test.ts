/**
 * What a KFP v1 pipeline cannot express is refused when the project is loaded, with file:line:column
 * (project/kfp-v1.ts), before anything is built; the placeholders only KFP v2 fills stay accepted for
 * the v2 spec and only cost the v1 package (publish warns).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { v1PackageBlockers } from '../../src/kfp/v1-package-meta.js';
import { loadProject } from '../../src/project/load-project.js';
import { writeTree } from '../support/project.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const COMPONENT = [
  'name: step',
  'inputs:',
  '- {name: n, type: Integer, default: "3"}',
  'outputs:',
  '- {name: out, type: Dataset}',
  'implementation:',
  '  container:',
  `    image: registry.example.com/ml/step@sha256:${'a'.repeat(64)}`,
  '    command: [run, --n, {inputValue: n}, --out, {outputPath: out}]',
  '',
].join('\n');
const PIPELINE = [
  'name: p',
  'parameters: {count: {type: Integer, default: 1}}',
  'volume: {name: data, size: 1Gi, mountPath: /data}',
  'steps:',
  '  first: {component: step, resources: {cpu: "1", memory: 1G}}',
  '',
].join('\n');

function load(component: string, pipeline: string) {
  const root = mkdtempSync(join(tmpdir(), 'helmet-v1-'));
  dirs.push(root);
  writeTree(root, { 'components/step/component.yaml': component, 'pipeline.yaml': pipeline });
  return () => loadProject(root);
}

describe('KFP v1 limits at load time', () => {
  it('the fixture itself loads', () => {
    expect(load(COMPONENT, PIPELINE)().pipeline?.steps).toHaveLength(1);
  });

  it.each([
    ['a parameter name starting with _', 'count:', '_count:', /pipeline\.yaml:2:\d+: parameters\._count: KFP v1 cannot express this .*begin with a letter/],
    ['a step name starting with a digit', '  first:', '  1st:', /pipeline\.yaml:5:\d+: steps\.1st: KFP v1 cannot express this .*begins with a letter/],
    ['a volume name starting with a digit', 'name: data', 'name: 9data', /pipeline\.yaml:3:\d+: volume\.name: KFP v1 cannot express this/],
    ['a volume size with a lowercase k', 'size: 1Gi', 'size: 100k', /pipeline\.yaml:3:\d+: volume\.size: KFP v1 cannot express this .*VolumeOp size/],
    ['a decimal memory request', 'memory: 1G', 'memory: 1.5Gi', /pipeline\.yaml:5:\d+: steps\.first\.resources\.memory: KFP v1 cannot express this/],
    ['a cpu request that is no number', 'cpu: "1"', 'cpu: 1k', /pipeline\.yaml:5:\d+: steps\.first\.resources\.cpu: KFP v1 cannot express this/],
  ])('pipeline.yaml: %s', (_, from, to, message) => {
    expect(load(COMPONENT, PIPELINE.replace(from, to))).toThrow(message);
  });

  it.each([
    [
      'an output name that is no kfp name',
      '{name: out, type: Dataset}',
      '{name: 1out, type: Dataset}',
      'outputPath: out',
      'outputPath: 1out',
      /component\.yaml:5:\d+: outputs\.0\.name: KFP v1 cannot express this .*\(step first\)/,
    ],
    [
      'an Integer default int() does not read',
      'default: "3"',
      'default: "3.0"',
      '',
      '',
      /component\.yaml:3:\d+: inputs\.0\.default: KFP v1 cannot express this .*: kfp passes this default through int\(\)/,
    ],
    [
      'an env value with a placeholder',
      'command: [',
      'env: {N: {inputValue: n}}\n    command: [',
      '',
      '',
      /component\.yaml:9:\d+: implementation\.container\.env\.N: KFP v1 cannot express this/,
    ],
    [
      'a constant if condition strtobool refuses',
      '--out,',
      '{if: {cond: maybe, then: [-v]}}, --out,',
      '',
      '',
      /implementation\.container\.command\.3\.if\.cond: KFP v1 cannot express this .*strtobool/,
    ],
  ])('component.yaml: %s', (_, from, to, from2, to2, message) => {
    expect(load(COMPONENT.replace(from, to).replace(from2, to2), PIPELINE)).toThrow(message);
  });

  it('an Integer default is not converted when the step gives the input', () => {
    const pipeline = PIPELINE.replace('{component: step,', '{component: step, args: {n: 4},');
    expect(load(COMPONENT.replace('default: "3"', 'default: "3.0"'), pipeline)().pipeline).toBeDefined();
  });

  it('executorInput stays accepted (the v2 spec has it); the pipeline then has no v1 package, and says where', () => {
    const project = load(COMPONENT.replace('--out,', '--in, {executorInput: null}, --out,'), PIPELINE)();
    expect(v1PackageBlockers(project.pipeline!)).toEqual(['components/step/component.yaml: implementation.container.command.4.executorInput']);
  });
});
