/**
 * FROM lines and the bases they name: a FROM naming another component's image makes it the base
 * (planned like from:, rewritten to the image this run made at build time), and a from: that the
 * Dockerfile never uses is refused with the file and line.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromLines, imageNameOfRef, withFromImage } from '../../src/dockerfile/from-lines.js';
import { ConfigError } from '../../src/errors.js';
import { loadProject } from '../../src/project/load-project.js';
import { useProjects } from '../support/project.js';

describe('FROM lines', () => {
  it('resolve global ARGs and build args, and skip scratch and earlier stages', () => {
    const dockerfile = [
      '# syntax=docker/dockerfile:1',
      'ARG BASE=ml-pipeline-local-base:1.7.0',
      'FROM --platform=$BUILDPLATFORM $BASE AS build',
      'RUN make',
      'FROM build',
      'FROM scratch',
      'FROM \\',
      '  python:3.11-slim',
    ].join('\n');
    expect(fromLines(dockerfile, {})).toEqual([
      { line: 3, written: '$BASE', image: 'ml-pipeline-local-base:1.7.0', args: ['BASE'] },
      { line: 7, written: 'python:3.11-slim', image: 'python:3.11-slim', args: [] },
    ]);
    expect(fromLines(dockerfile, { BASE: 'other' })[0]!.image).toBe('other');
  });

  it('name images without tag or digest, Docker Hub long forms as the short one', () => {
    expect(imageNameOfRef('ml-pipeline-local-base:1.7.0')).toBe('ml-pipeline-local-base');
    expect(imageNameOfRef('docker.io/library/ml-pipeline-local-base')).toBe('ml-pipeline-local-base');
    expect(imageNameOfRef('localhost:5000/team/base@sha256:abc')).toBe('localhost:5000/team/base');
    expect(imageNameOfRef('quay.io/ibm/base:latest')).toBe('quay.io/ibm/base');
  });

  it('rewrite the image word of the given FROM lines only, flags and stage names kept', () => {
    const dockerfile = 'FROM --platform=linux/amd64 ml-base:1 AS b\nRUN x\nFROM \\\n  ml-base\nFROM python:3\n';
    expect(withFromImage(dockerfile, [1, 3], 'r/ml-base@sha256:1')).toBe(
      'FROM --platform=linux/amd64 r/ml-base@sha256:1 AS b\nRUN x\nFROM \\\n  r/ml-base@sha256:1\nFROM python:3\n',
    );
  });
});

describe('bases named by FROM lines', () => {
  const project = useProjects();
  const component = (image: string, extra = '') =>
    `name: x\nimplementation:\n  container:\n    image: gcr.io/ml-pipeline/${image}:1.7.0\n    command: [sh]\nbuild: {${extra}}\n`;
  it('a Dockerfile whose FROM names another component image starts from it, as from: would', () => {
    const root = project({
      'components/base/component.yaml': component('ml-pipeline-local-base'),
      'components/base/Dockerfile': 'FROM busybox\n',
      'components/roc/component.yaml': component('ml-pipeline-local-roc'),
      'components/roc/Dockerfile': '# the base, built by a script before\nFROM ml-pipeline-local-base\nCOPY . /ml\n',
    });
    const { components } = loadProject(root);
    expect(components.map((c) => c.name)).toEqual(['base', 'roc']);
    const roc = components[1]!;
    expect(roc.kind === 'built' && roc.base?.name).toBe('base');
    expect(roc.kind === 'built' && roc.baseFromLines).toEqual([2]);
  });

  it('from: that the Dockerfile never uses is refused, naming the file; so are FROM lines naming two components', () => {
    const root = project({
      'components/base/component.yaml': component('ml-pipeline-local-base'),
      'components/base/Dockerfile': 'FROM busybox\n',
      'components/other/component.yaml': component('other-base'),
      'components/other/Dockerfile': 'FROM busybox\n',
      'components/roc/component.yaml': component('ml-pipeline-local-roc', 'from: base'),
      'components/roc/Dockerfile': 'FROM python:3.11\n',
    });
    expect(() => loadProject(root)).toThrow(ConfigError);
    expect(() => loadProject(root)).toThrow(
      /components\/roc\/component\.yaml:\d+:\d+: build\.from: is base, but no FROM line of components\/roc\/Dockerfile uses \$\{BASE_IMAGE\} or names base's image/,
    );
    const both = project({
      'components/base/component.yaml': component('ml-pipeline-local-base'),
      'components/base/Dockerfile': 'FROM busybox\n',
      'components/other/component.yaml': component('other-base'),
      'components/other/Dockerfile': 'FROM busybox\n',
      'components/roc/component.yaml': component('ml-pipeline-local-roc'),
      'components/roc/Dockerfile': 'FROM ml-pipeline-local-base AS a\nFROM other-base\n',
    });
    expect(() => loadProject(both)).toThrow(/components\/roc\/Dockerfile:2:1: FROM lines name the images of base and other/);
  });

  it('from: with ${BASE_IMAGE} stays as it was, also when the ARG has no default', () => {
    const noDefault = project({
      'components/base/component.yaml': component('ml-pipeline-local-base'),
      'components/base/Dockerfile': 'FROM busybox\n',
      'components/app/component.yaml': component('app', 'from: base'),
      'components/app/Dockerfile': 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n',
    });
    expect(loadProject(noDefault).components.find((c) => c.name === 'app')).toMatchObject({ base: { name: 'base' } });

    const root = project({
      'components/base/component.yaml': component('ml-pipeline-local-base'),
      'components/base/Dockerfile': 'FROM busybox\n',
      'components/roc/component.yaml': component('ml-pipeline-local-roc', 'from: base'),
      'components/roc/Dockerfile': 'ARG BASE_IMAGE=busybox\nFROM ${BASE_IMAGE}\n',
    });
    const roc = loadProject(root).components.find((c) => c.name === 'roc')!;
    expect(roc.kind === 'built' && [roc.base?.name, roc.baseFromLines]).toEqual(['base', undefined]);
    expect(join(root, 'components/roc/Dockerfile')).toBe(roc.kind === 'built' && roc.build.dockerfilePath);
  });
});
