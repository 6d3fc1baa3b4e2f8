/**
 * A component.yaml as KFP repositories keep it: its own `image:` line stays (kfp users load the file
 * as it is), `build:` may say no more than `{}`, the image name comes from that line and the
 * Dockerfile is the one beside component.yaml; the published spec carries the built image instead.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderComponentSpec } from '../../src/kfp/component-spec.js';
import { imageNameOf } from '../../src/project/component-file.js';
import { loadProject } from '../../src/project/load-project.js';
import { makeProject, runCli } from '../support/project.js';

const ROC = `name: ROC curve
inputs:
  - {name: predictions, type: GCSPath}
implementation:
  container:
    image: gcr.io/ml-pipeline/ml-pipeline-local-roc:1.7.0
    command: [python, /ml/roc.py, --predictions, {inputValue: predictions}]
`;

describe('component.yaml as KFP repositories write it', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  function project(componentYaml: string, files: Record<string, string> = {}) {
    const p = makeProject({ 'components/roc/component.yaml': componentYaml, 'components/roc/Dockerfile': 'FROM scratch\n', ...files });
    cleanups.push(p.cleanup);
    return p.root;
  }

  it('build: {} builds the Dockerfile beside component.yaml, named after its image: line, which stays', () => {
    const root = project(`${ROC}build: {}\n`);
    const [roc] = loadProject(root).components;
    expect(roc).toMatchObject({
      kind: 'built',
      name: 'roc',
      build: { image: 'ml-pipeline-local-roc', dockerfilePath: join(root, 'components/roc/Dockerfile'), contextDir: join(root, 'components/roc') },
    });
    expect(roc!.spec.implementation.container.image).toBe('gcr.io/ml-pipeline/ml-pipeline-local-roc:1.7.0');
  });

  it('build.image and build.dockerfile, when given, win', () => {
    const root = project(`${ROC}build: {image: roc-curve, dockerfile: docker/roc.Dockerfile}\n`, { 'docker/roc.Dockerfile': 'FROM scratch\n' });
    expect(loadProject(root).components[0]).toMatchObject({ build: { image: 'roc-curve', dockerfilePath: join(root, 'docker/roc.Dockerfile') } });
  });

  it('the published spec names the built image in place of the image: line', async () => {
    const root = project(`${ROC}build: {}\n`);
    const [roc] = loadProject(root).components;
    const pinned = `registry.example.com/ml/ml-pipeline-local-roc@sha256:${'a'.repeat(64)}`;
    const spec = parse(await renderComponentSpec(roc!.spec, pinned, roc!.file));
    expect(spec.implementation.container.image).toBe(pinned);
    expect(spec.build).toBeUndefined();
    expect(spec.implementation.container.command[0]).toBe('python');
  });

  it('the image name of an image: line is its last path segment without tag or digest', () => {
    expect(imageNameOf('gcr.io/ml-pipeline/ml-pipeline-local-roc:1.7.0')).toBe('ml-pipeline-local-roc');
    expect(imageNameOf('localhost:5000/team/app@sha256:abc')).toBe('app');
    expect(imageNameOf('quay.io/ibm/kubeflow-component-base-image-k8s-client:latest')).toBe('kubeflow-component-base-image-k8s-client');
    expect(imageNameOf('busybox')).toBe('busybox');
    expect(imageNameOf('Not_An_Image')).toBeUndefined();
    expect(imageNameOf(undefined)).toBeUndefined();
  });

  it('no build: at all, a Dockerfile beside component.yaml: built from it, and list says where the build comes from', async () => {
    const root = project(ROC);
    const [roc] = loadProject(root).components;
    expect(roc).toMatchObject({ kind: 'built', build: { image: 'ml-pipeline-local-roc', origin: 'dockerfile-beside' } });
    const listed = await runCli(['list'], root);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toBe('roc              ml-pipeline-local-roc from components/roc/Dockerfile, found beside component.yaml\n');
  });

  it('no build:, a Dockerfile beside, no image: line to name the image after: refused, saying what to add', () => {
    const root = project(ROC.replace('    image: gcr.io/ml-pipeline/ml-pipeline-local-roc:1.7.0\n', ''));
    expect(() => loadProject(root)).toThrow(/implementation\.container: needs build\.image \(the name of the image to build/);
  });
});
