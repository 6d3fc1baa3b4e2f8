/**
 * A repository laid out as KFP repositories are (components nested under components/local and
 * components/sample, Dockerfiles beside their component.yaml, no build: sections), described by a
 * helmet-build.yaml alone: all --push builds and pins each, named after its folder, on the real
 * engine and registry; a second run builds nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeProject, runCli } from '../support/project.js';
import { removeImages, runImage, services, uniqueName } from '../support/services.js';

describe('components where the repository keeps them', () => {
  const prefix = uniqueName('itest-nested');
  const push = `${services.registry}/${prefix}`;
  const component = (image: string) =>
    `name: ${image}\nimplementation:\n  container:\n    image: gcr.io/ml-pipeline/${image}:1.7.0\n    command: [/bin/sh, -c, cat /app/says]\n`;
  const project = makeProject({
    'helmet-build.yaml': "components:\n  - 'components/**/component.yaml'\n",
    'components/local/roc/component.yaml': component(`${prefix}-roc`),
    'components/local/roc/Dockerfile': 'FROM helmet/busybox:latest\nCOPY says /app/says\n',
    'components/local/roc/says': 'roc\n',
    'components/sample/keras/train_classifier/component.yaml': component(`${prefix}-keras`),
    'components/sample/keras/train_classifier/Dockerfile': 'FROM helmet/busybox:latest\nCOPY says /app/says\n',
    'components/sample/keras/train_classifier/says': 'keras\n',
  });
  afterAll(async () => {
    await removeImages(push);
    project.cleanup();
  });

  it('builds and pins every component the glob finds, named after its folder; a second run builds nothing', async () => {
    const r = await runCli(['all', '--push', push], project.root);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components;
    expect(Object.keys(report).sort()).toEqual(['roc', 'train_classifier']);
    for (const [name, says] of [
      ['roc', 'roc'],
      ['train_classifier', 'keras'],
    ] as const) {
      const spec = parse(readFileSync(join(project.root, `dist/components/${name}/component.yaml`), 'utf8'));
      expect(spec.implementation.container.image).toBe(report[name].image);
      expect(report[name].image).toMatch(new RegExp(`^${push}/${prefix}-(roc|keras)@sha256:[0-9a-f]{64}$`));
      expect((await runImage(report[name].image, ['cat', '/app/says'])).output).toBe(`${says}\n`);
    }
    const again = await runCli(['all', '--push', push], project.root);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('done: 2 reused');
  });
});

/** The shape of kubeflow/pipelines' components/local: a base a script built, two components whose Dockerfiles say FROM its name. */
describe('a base image that no component.yaml describes (images:)', () => {
  const prefix = uniqueName('itest-images');
  const push = `${services.registry}/${prefix}`;
  const baseName = `${prefix}-local-base`;
  const component = (image: string) => `name: ${image}\nimplementation:\n  container:\n    image: gcr.io/ml-pipeline/${image}:1.7.0\n    command: [/bin/sh]\n`;
  const project = makeProject({
    'helmet-build.yaml': [
      'components: [components/local/roc, components/local/confusion_matrix]',
      'images:',
      `  ${baseName}:`,
      '    context: components/local/base',
      '    args: {KFP_VERSION: 1.7.0}',
      '',
    ].join('\n'),
    'components/local/base/Dockerfile': 'FROM helmet/busybox:latest\nARG KFP_VERSION\nRUN echo "base $KFP_VERSION" > /base.txt\n',
    'components/local/roc/component.yaml': component(`${prefix}-roc`),
    'components/local/roc/Dockerfile': `FROM ${baseName}\nCOPY roc.txt /roc.txt\n`,
    'components/local/roc/roc.txt': 'roc\n',
    'components/local/confusion_matrix/component.yaml': component(`${prefix}-cm`),
    'components/local/confusion_matrix/Dockerfile': `FROM ${baseName}:latest\n`,
  });
  afterAll(async () => {
    await removeImages(push);
    project.cleanup();
  });

  it('builds the base first, pins it under its key with no KFP spec, and builds both components on it; a change in the base rebuilds all three', async () => {
    const r = await runCli(['all', '--push', push], project.root);
    expect(r.code, r.stderr).toBe(0);
    const report = () => JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components;
    const first = report();
    expect(Object.keys(first).sort()).toEqual([baseName, 'confusion_matrix', 'roc'].sort());
    expect(first[baseName].image).toMatch(new RegExp(`^${push}/${baseName}@sha256:[0-9a-f]{64}$`));
    expect(existsSync(join(project.root, `dist/components/${baseName}`))).toBe(false);
    expect((await runImage(first.roc.image, ['cat', '/base.txt', '/roc.txt'])).output).toBe('base 1.7.0\nroc\n');
    expect((await runImage(first.confusion_matrix.image, ['cat', '/base.txt'])).output).toBe('base 1.7.0\n');

    writeFileSync(join(project.root, 'helmet-build.yaml'), readFileSync(join(project.root, 'helmet-build.yaml'), 'utf8').replace('1.7.0', '1.8.0'));
    const changed = await runCli(['all', '--push', push], project.root);
    expect(changed.code, changed.stderr).toBe(0);
    const second = report();
    for (const name of [baseName, 'roc', 'confusion_matrix']) expect(second[name].action, name).toBe('pushed');
    expect((await runImage(second.roc.image, ['cat', '/base.txt'])).output).toBe('base 1.8.0\n');
  });
});
