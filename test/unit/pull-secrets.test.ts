/**
 * imagePullSecrets in pipeline.yaml (the pipeline's, and a step's own) become the Kubernetes platform
 * spec's `imagePullSecret` of every executor, exactly as kfp-kubernetes 2.17's set_image_pull_secrets
 * writes it: compared with the platform spec KFP's SDK compiled from the same pipeline
 * (test/fixtures/kfp/example-ir-image-pull-secrets.yaml, a copy of shared/kfp's, from its .py beside it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildPipelineDocuments, renderPipelineYaml } from '../../src/kfp/pipeline-spec.js';
import { loadProject } from '../../src/project/load-project.js';
import { makeProject, runCli } from '../support/project.js';

const GOLDEN = join(import.meta.dirname, '..', 'fixtures', 'kfp', 'example-ir-image-pull-secrets.yaml');
const IMAGE = `harbor.example.com/ml/helmet-ingest@sha256:${'a'.repeat(64)}`;

/** The pipeline of example-ir-image-pull-secrets.py in pipeline.yaml's words: a prebuilt component run twice. */
const FILES = {
  'components/step/component.yaml': `name: step\ninputs:\n  - {name: msg, type: String}\nimplementation:\n  container:\n    image: ${IMAGE}\n    command: [sh, -c]\n    args: [echo, {inputValue: msg}]\n`,
  'pipeline.yaml': [
    'name: pull-secrets',
    'parameters:',
    '  msg: {type: String, default: hi}',
    'imagePullSecrets: [harbor-cred]',
    'steps:',
    '  step:',
    '    component: step',
    '    args: {msg: {param: msg}}',
    '  step-2:',
    '    component: step',
    '    after: [step]',
    '    args: {msg: {param: msg}}',
    '    imagePullSecrets: [mirror-cred]',
    '',
  ].join('\n'),
};

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function project(files: Record<string, string>): string {
  const p = makeProject(files);
  cleanups.push(p.cleanup);
  return p.root;
}

describe('image pull secrets for the cluster', () => {
  it("every executor names the pipeline's secrets and its step's own, as kfp-kubernetes writes them", async () => {
    const pipeline = loadProject(project(FILES)).pipeline!;
    const text = await renderPipelineYaml(pipeline, buildPipelineDocuments(pipeline, new Map([['step', IMAGE]])));
    const [, platform] = parseAllDocuments(text).map((d) => d.toJS());
    const [, golden] = parseAllDocuments(readFileSync(GOLDEN, 'utf8')).map((d) => d.toJS());
    expect(platform.platforms.kubernetes.deploymentSpec.executors).toEqual(golden.platforms.kubernetes.deploymentSpec.executors);
    // Only what KubernetesExecutorConfig has: an unknown key would make KFP's backend refuse the spec.
    for (const executor of Object.values<Record<string, unknown>>(platform.platforms.kubernetes.deploymentSpec.executors)) {
      expect(Object.keys(executor).every((k) => ['imagePullSecret', 'pvcMount', 'tolerations'].includes(k))).toBe(true);
    }
  });

  it('without imagePullSecrets no executor names one', async () => {
    const files = {
      ...FILES,
      'pipeline.yaml': FILES['pipeline.yaml'].replace('imagePullSecrets: [harbor-cred]\n', '').replace('    imagePullSecrets: [mirror-cred]\n', ''),
    };
    const pipeline = loadProject(project(files)).pipeline!;
    expect(await renderPipelineYaml(pipeline, buildPipelineDocuments(pipeline, new Map([['step', IMAGE]])))).not.toContain('imagePullSecret');
  });

  it.each([
    ['a name that is no Secret name', 'imagePullSecrets: [Harbor_Cred]', /pipeline\.yaml:4:\d+: imagePullSecrets\.0: must be a Kubernetes Secret name/],
    ['a secret named twice', 'imagePullSecrets: [a, a]', /pipeline\.yaml:4:\d+: imagePullSecrets: names a secret twice/],
    ['a string, not a list', 'imagePullSecrets: harbor-cred', /pipeline\.yaml:4:\d+: imagePullSecrets: expected a list, got a string/],
  ])('%s is refused at load time with file:line:column (exit 2)', async (_name, line, message) => {
    const root = project({ ...FILES, 'pipeline.yaml': FILES['pipeline.yaml'].replace('imagePullSecrets: [harbor-cred]', line) });
    const r = await runCli(['plan'], root);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
