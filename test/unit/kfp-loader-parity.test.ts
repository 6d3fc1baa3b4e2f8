import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { componentSpec } from '../../src/kfp/component-spec.js';
import { buildPipelineDocuments, renderPipelineYaml } from '../../src/kfp/pipeline-spec.js';
import { loadProject } from '../../src/project/load-project.js';
import { makeProject, runCli, TINY_DOCKERFILE } from '../support/project.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

// What three components published with KFP 1.8.22 rely on (shared/kfp/examples-v1): no name,
// `inputs:`/`outputs:` left empty (null), and the executor input passed on the command line.
const PARITY_PROJECT = {
  ...TINY_DOCKERFILE,
  'components/nameless/component.yaml': [
    'description: has no name',
    'inputs:',
    'outputs:',
    'implementation:',
    '  container:',
    '    command: [sh, -c, echo hi]',
    '    env:',
    'build: {image: nameless, dockerfile: dockerfiles/tiny.Dockerfile}',
    '',
  ].join('\n'),
  'components/v2style/component.yaml': [
    'name: v2 style',
    'inputs:',
    '  - {name: text, type: String, description: null, default: a}',
    'outputs:',
    '  - {name: out, type: Dataset, description: null}',
    'implementation:',
    '  container:',
    '    image: null',
    '    command: [sh, -c, \'echo "$0" > "$1"\']',
    '    args: [--executor_input, {executorInput: null}, --text, {inputValue: text}, {outputPath: out}]',
    'build: {image: v2style, dockerfile: dockerfiles/tiny.Dockerfile}',
    '',
  ].join('\n'),
  'pipeline.yaml': 'name: parity\nsteps:\n  first: {component: nameless}\n  second: {component: v2style, after: [first]}\n',
};

describe('KFP v1 loader parity (what kfp.components.load_component_from_file accepts)', () => {
  it('loads a component without name and with null inputs, outputs, env and descriptions', () => {
    const p = makeProject(PARITY_PROJECT);
    cleanups.push(p.cleanup);
    const project = loadProject(p.root);
    const nameless = project.components.find((c) => c.name === 'nameless')!;
    expect(nameless.spec.name).toBeUndefined();
    // The emitted v1 spec has no empty keys: KFP reads null as absent, and so does the copy.
    expect(componentSpec(nameless.spec, 'r/nameless@sha256:0')).toEqual({
      description: 'has no name',
      implementation: { container: { image: 'r/nameless@sha256:0', command: ['sh', '-c', 'echo hi'] } },
    });
    const v2 = project.components.find((c) => c.name === 'v2style')!;
    expect(v2.spec.inputs).toEqual([{ name: 'text', type: 'String', default: 'a' }]);
  });

  it('passes {executorInput: null} to the pipeline spec as {{$}}, as KFP compiles it', async () => {
    const p = makeProject(PARITY_PROJECT);
    cleanups.push(p.cleanup);
    const project = loadProject(p.root);
    const images = new Map(project.components.map((c) => [c.name, `r/${c.name}@sha256:${'0'.repeat(64)}`]));
    const ir = parseAllDocuments(await renderPipelineYaml(project.pipeline!, buildPipelineDocuments(project.pipeline!, images)))[0]!.toJS();
    expect(ir.deploymentSpec.executors['exec-second'].container.args).toEqual([
      '--executor_input',
      '{{$}}',
      '--text',
      "{{$.inputs.parameters['text']}}",
      "{{$.outputs.artifacts['out'].path}}",
    ]);
  });

  it('list shows the folder name for a component without name; run refuses a step that needs the executor input, before anything runs', async () => {
    const p = makeProject(PARITY_PROJECT);
    cleanups.push(p.cleanup);
    const list = await runCli(['list', '--json'], p.root);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toContainEqual(expect.objectContaining({ component: 'nameless', name: 'nameless' }));
    // The engine address is closed: a refusal before anything runs never reaches it.
    const previous = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
    try {
      const run = await runCli(['run'], p.root);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/second take \{executorInput\}, which only KFP's launcher provides/);
      expect(run.stderr).toMatch(/--skip-step second/);
    } finally {
      if (previous === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = previous;
    }
  });
});
