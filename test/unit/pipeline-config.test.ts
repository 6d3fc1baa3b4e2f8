import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/project/load-project.js';
import { runCli, TINY_PIPELINE, tinyPipelineProject } from '../support/project.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

async function expectPipelineError(pipelineYaml: string, expected: RegExp, args = ['all']) {
  const p = tinyPipelineProject(pipelineYaml);
  cleanups.push(p.cleanup);
  const r = await runCli(args, p.root);
  expect(r.stderr).toMatch(expected);
  expect(r.code).toBe(2);
}

describe('bad pipeline.yaml', () => {
  it('unknown component', async () => {
    await expectPipelineError(
      TINY_PIPELINE.replace('component: world', 'component: wrold'),
      /pipeline\.yaml:10:5: steps\.second\.component: unknown component "wrold" \(known: hello, world\)/,
    );
  });

  it('unknown input of the component', async () => {
    await expectPipelineError(
      TINY_PIPELINE.replace('args: {who:', 'args: {whom:'),
      /pipeline\.yaml:8:\d+: steps\.first\.args\.whom: component hello has no input "whom" \(inputs: who\)/,
    );
  });

  it('unknown pipeline parameter', async () => {
    await expectPipelineError(
      TINY_PIPELINE.replace('{param: who}', '{param: nobody}'),
      /steps\.first\.args\.who\.param: unknown pipeline parameter "nobody" \(declared: who\)/,
    );
  });

  it('unknown step in after', async () => {
    await expectPipelineError(
      TINY_PIPELINE.replace('after: [first]', 'after: [frist]'),
      /pipeline\.yaml:11:\d+: steps\.second\.after\.0: unknown step "frist"/,
    );
  });

  it('a cycle', async () => {
    await expectPipelineError(
      TINY_PIPELINE.replace('    component: hello\n', '    component: hello\n    after: [second]\n'),
      /steps form a cycle: (first -> second -> first|second -> first -> second)/,
    );
  });

  it('an unknown key with the allowed ones', async () => {
    await expectPipelineError(
      TINY_PIPELINE.replace('volume: {name: data,', 'volume: {nmae: data,'),
      /pipeline\.yaml:4:\d+: volume\.nmae: unknown key "nmae" \(allowed here: name, size, accessMode, storageClass, mountPath\)/,
    );
  });

  it('a bad resource quantity', async () => {
    await expectPipelineError(`${TINY_PIPELINE}    resources: {memory: lots}\n`, /steps\.second\.resources\.memory: must be a Kubernetes quantity/);
  });

  it('run: an unknown --param and an unknown --skip-step', async () => {
    await expectPipelineError(TINY_PIPELINE, /--param: nobody: unknown pipeline parameter/, ['run', '--param', 'nobody=1']);
    await expectPipelineError(TINY_PIPELINE, /--skip-step names unknown step\(s\): third/, ['run', '--skip-step', 'third']);
  });
});

describe('placeholders KFP would refuse for a step', () => {
  it('an input read with inputValue is a value even without a type, as kfp 1.x reads it (a STRING parameter)', async () => {
    const p = tinyPipelineProject();
    cleanups.push(p.cleanup);
    const file = `${p.root}/components/world/component.yaml`;
    writeFileSync(file, readFileSync(file, 'utf8').replace('{name: who, type: String, default: world}', '{name: who, default: world}'));
    const second = loadProject(p.root).pipeline!.steps.find((s) => s.name === 'second')!;
    expect(second.inputs).toEqual([expect.objectContaining({ name: 'who', kind: 'parameter', type: 'STRING', default: 'world' })]);
  });
});
