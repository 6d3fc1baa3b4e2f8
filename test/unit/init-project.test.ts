/**
 * `helmet-build init` on repositories shaped as KFP repositories are (written for the test): the
 * helmet-build.yaml it writes is accepted by `list` as it is, names the base a build script made as an
 * `images:` entry, gives components that name one image their folders' names, and says what it could
 * not decide; it never writes over an existing file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/project/load-project.js';
import { runCli, useProjects } from '../support/project.js';

const component = (image: string) => `name: ${image}\nimplementation:\n  container:\n    image: ${image}\n    command: [sh]\n`;

describe('helmet-build init', () => {
  const project = useProjects();

  it('components/local of kubeflow/pipelines: the base its build_image.sh makes becomes an image the components start from', async () => {
    const root = project({
      'components/local/base/Dockerfile': 'FROM python:3.7\nADD build /ml\n',
      'components/local/base/build/.keep': '',
      'components/local/base/build_image.sh':
        '#!/bin/bash -e\nmkdir -p ./build\nrsync -arvp "../confusion_matrix/src"/ ./build/\nrsync -arvp "../roc/src"/ ./build/\ncp -r ../roc/extra ./build/\ndocker build -t ml-pipeline-local-base .\nrm -rf ./build\n',
      'components/local/roc/src/roc.py': 'print(1)\n',
      'components/local/roc/extra/x.txt': 'x\n',
      'components/local/confusion_matrix/src/confusion_matrix.py': 'print(2)\n',
      'components/local/roc/component.yaml': component('gcr.io/ml-pipeline/ml-pipeline-local-roc:1.7.0'),
      'components/local/roc/Dockerfile': 'FROM ml-pipeline-local-base\n',
      'components/local/confusion_matrix/component.yaml': component('gcr.io/ml-pipeline/ml-pipeline-local-confusion-matrix:1.7.0'),
      'components/local/confusion_matrix/Dockerfile': 'FROM ml-pipeline-local-base\n',
      'components/sample/keras/train_classifier/component.yaml': component('tensorflow/tensorflow:2.0.0-py3'),
    });
    const r = await runCli(['init'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(root, 'helmet-build.yaml'), 'utf8')).toBe(
      [
        '# Written by helmet-build init: where this repository keeps its components and the images they start from.',
        'components:',
        '  - components/local/confusion_matrix/component.yaml',
        '  - components/local/roc/component.yaml',
        '  - components/sample/keras/train_classifier/component.yaml',
        'images:',
        '  ml-pipeline-local-base:                # from components/local/base/build_image.sh',
        '    context: components/local/base',
        '    add:                               # copied into the context by the script',
        '      build: [components/local/confusion_matrix/src, components/local/roc/src]',
        '      build/extra: [components/local/roc/extra]',
        '',
      ].join('\n'),
    );
    expect(r.stderr).toContain('found image ml-pipeline-local-base: built by components/local/base/build_image.sh from components/local/base');
    expect(r.stderr).toContain('note: components/sample/keras/train_classifier/component.yaml: no Dockerfile beside it, so it stays prebuilt');
    const loaded = loadProject(root);
    expect(loaded.components.map((c) => [c.name, c.kind, c.kind === 'built' ? c.base?.name : undefined])).toEqual([
      ['ml-pipeline-local-base', 'built', undefined],
      ['confusion_matrix', 'built', 'ml-pipeline-local-base'],
      ['roc', 'built', 'ml-pipeline-local-base'],
      ['train_classifier', 'prebuilt', undefined],
    ]);
    expect((await runCli(['list'], root)).code).toBe(0);

    const again = await runCli(['init'], root);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('helmet-build.yaml already exists; nothing was changed');
  });

  it('two component.yaml files naming one image: each builds its own, named after its folder, and init says so', async () => {
    const root = project({
      'components/k8s/create/component.yaml': component('quay.io/ibm/kubeflow-component-base-image-k8s-client:latest'),
      'components/k8s/create/Dockerfile': 'FROM busybox\n',
      'components/k8s/delete/component.yaml': component('quay.io/ibm/kubeflow-component-base-image-k8s-client:latest'),
      'components/k8s/delete/Dockerfile': 'FROM busybox\n',
    });
    const r = await runCli(['init'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'note: components/k8s/create/component.yaml, components/k8s/delete/component.yaml all name the image quay.io/ibm/kubeflow-component-base-image-k8s-client',
    );
    expect(loadProject(root).components.map((c) => [c.name, c.kind === 'built' && c.build.image])).toEqual([
      ['create', 'create'],
      ['delete', 'delete'],
    ]);
  });

  it('reads the image name of a build script from its variables, as lehrig/kubeflow-ppc64le-components writes them', async () => {
    const root = project({
      'base-images/k8s-client/Dockerfile': 'FROM busybox\n',
      'base-images/k8s-client/build_image.sh':
        '#!/bin/bash -e\nimage_name=quay.io/ibm/kubeflow-component-base-image-k8s-client\nimage_tag=latest\nfull_image_name=${image_name}:${image_tag}\n\ncd "$(dirname "$0")"\ndocker build -t "${full_image_name}" .\ndocker push "${full_image_name}"\n',
      'model-building/train/component.yaml': component('quay.io/ibm/train:latest'),
      'model-building/train/Dockerfile': 'FROM quay.io/ibm/kubeflow-component-base-image-k8s-client:latest\n',
      // No Dockerfile of its own: it runs in the base image, pinned to it as the run builds it.
      'model-deployment/create-job/component.yaml': component('quay.io/ibm/kubeflow-component-base-image-k8s-client:latest'),
    });
    const r = await runCli(['init'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'found image quay.io/ibm/kubeflow-component-base-image-k8s-client: built by base-images/k8s-client/build_image.sh from base-images/k8s-client',
    );
    const { components } = loadProject(root);
    expect(components.find((c) => c.name === 'train')).toMatchObject({ base: { name: 'quay.io/ibm/kubeflow-component-base-image-k8s-client' } });
    expect(components.find((c) => c.name === 'create-job')).toMatchObject({
      kind: 'prebuilt',
      imageOf: { name: 'quay.io/ibm/kubeflow-component-base-image-k8s-client' },
    });
    expect(r.stderr).not.toContain('create-job/component.yaml: no Dockerfile beside it');
  });
});
