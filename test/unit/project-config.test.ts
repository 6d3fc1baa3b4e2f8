/**
 * helmet-build.yaml: components where a repository keeps them (paths, folders, globs), build
 * settings for a component.yaml left as its repository wrote it, the pipeline file where it is; bad
 * entries refused with the file, line and what to do; the checked project cached only while what it
 * was found from stays the same.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { planBuild } from '../../src/flow/build.js';
import { planJson } from '../../src/plan/plan.js';
import { loadProject } from '../../src/project/load-project.js';
import { openProject } from '../../src/project/project-cache.js';
import { findProjectRoot } from '../../src/project/project-root.js';
import { describeProvenance, imageProvenance } from '../../src/project/provenance.js';
import { FakeWorld } from '../support/fake-world.js';
import { type FileTree, runCli, useProjects } from '../support/project.js';

const component = (image: string, build = '') =>
  `name: ${image}\nimplementation:\n  container:\n    image: gcr.io/ml-pipeline/${image}:1.7.0\n    command: [sh]\n${build}`;

/** The shape of kubeflow/pipelines' components/local and components/sample, written for the test. */
const NESTED: FileTree = {
  'components/local/roc/component.yaml': component('ml-pipeline-local-roc'),
  'components/local/roc/Dockerfile': 'FROM busybox\n',
  'components/local/confusion_matrix/component.yaml': component('ml-pipeline-local-confusion-matrix'),
  'components/local/confusion_matrix/docker/Dockerfile': 'FROM busybox\n',
  'components/sample/keras/train_classifier/component.yaml': component('keras-train-classifier', 'build: {}\n'),
  'components/sample/keras/train_classifier/Dockerfile': 'FROM busybox\n',
  'pipelines/roc.yaml': 'name: roc\nsteps:\n  roc: {component: roc}\n',
};

/** The message of the ConfigError loading `root` throws (a test fails when it loads, or throws anything else). */
function configErrorText(root: string): string {
  try {
    loadProject(root);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`${root} loaded, though it should not`);
}

describe('helmet-build.yaml', () => {
  const project = useProjects();

  it('finds components by path, folder and glob, named after their folders, with settings for one it keeps as written', () => {
    const root = project({
      ...NESTED,
      'helmet-build.yaml': [
        'components:',
        '  - components/local/roc/component.yaml',
        '  - path: components/local/confusion_matrix',
        '    image: confusion-matrix',
        '    dockerfile: components/local/confusion_matrix/docker/Dockerfile',
        "  - 'components/sample/**/component.yaml'",
        'pipeline: pipelines/roc.yaml',
        '',
      ].join('\n'),
    });
    const loaded = loadProject(root);
    expect(loaded.components.map((c) => [c.name, c.kind === 'built' && c.build.image, c.kind === 'built' && c.build.origin])).toEqual([
      ['confusion_matrix', 'confusion-matrix', 'project-file'],
      ['roc', 'ml-pipeline-local-roc', 'dockerfile-beside'],
      ['train_classifier', 'keras-train-classifier', 'build-section'],
    ]);
    expect(loaded.pipeline).toMatchObject({ file: 'pipelines/roc.yaml', name: 'roc' });
    expect(loaded.source).toEqual({ pipelineFile: 'pipelines/roc.yaml', configFile: 'helmet-build.yaml', globbed: true });
    // The root is found by helmet-build.yaml from anywhere inside.
    expect(findProjectRoot(join(root, 'components/sample/keras'))).toBe(root);
  });

  it('refuses, with file and line: two folders of one name, settings for a component.yaml that has build:, paths that name nothing', () => {
    const root = project({
      ...NESTED,
      'components/other/roc/component.yaml': component('other-roc', 'build: {}\n'),
      'components/other/roc/Dockerfile': 'FROM busybox\n',
      'helmet-build.yaml': [
        'components:',
        "  - 'components/*/roc/component.yaml'",
        '  - path: components/sample/keras/train_classifier/component.yaml',
        '    image: keras',
        '  - components/nowhere/component.yaml',
        "  - 'elsewhere/**/component.yaml'",
        '',
      ].join('\n'),
    });
    const text = configErrorText(root);
    expect(text).toContain(
      'helmet-build.yaml:2:5: components.0: components/other/roc/component.yaml and components/local/roc/component.yaml are both named "roc"',
    );
    expect(text).toContain('helmet-build.yaml:5:5: components.2: no such file: components/nowhere/component.yaml');
    expect(text).toContain('helmet-build.yaml:6:5: components.3: matches no component.yaml (elsewhere/**/component.yaml)');
    const both = project({ ...NESTED, 'helmet-build.yaml': 'components:\n  - path: components/sample/keras/train_classifier\n    image: keras\n' });
    expect(() => loadProject(both)).toThrow(
      /helmet-build\.yaml:2:5: components\.0\.path: components\/sample\/keras\/train_classifier\/component\.yaml has a build: section too/,
    );
  });

  it('an unknown key is refused with the keys it takes', () => {
    const root = project({ ...NESTED, 'helmet-build.yaml': 'component: [x]\n' });
    expect(() => loadProject(root)).toThrow(/helmet-build\.yaml:1:1: component: unknown key.*components.*pipeline/s);
  });

  it('the checked project is cached while helmet-build.yaml and what it names stay; a project found by a glob is not', async () => {
    const later = () => Date.now() + 10_000;
    const root = project({ ...NESTED, 'helmet-build.yaml': 'components: [components/local/roc]\npipeline: pipelines/roc.yaml\n' });
    const first = await openProject(root, { buildId: 'b1', now: later });
    expect(existsSync(join(root, '.helmet-cache/project-v1.json'))).toBe(true);
    expect((await openProject(root, { buildId: 'b1', now: later })).components).toEqual(first.components);
    writeFileSync(join(root, 'helmet-build.yaml'), 'components: [components/local/roc, components/local/confusion_matrix]\n');
    // The edit is seen at once: the second component is there (prebuilt: no Dockerfile beside it).
    const edited = await openProject(root, { buildId: 'b1', now: later });
    expect(edited.components.map((c) => [c.name, c.kind])).toEqual([
      ['confusion_matrix', 'prebuilt'],
      ['roc', 'built'],
    ]);
    expect(edited.pipeline).toBeUndefined();

    const globbed = project({ ...NESTED, 'helmet-build.yaml': "components: ['components/local/r*/component.yaml']\n" });
    await openProject(globbed, { buildId: 'b1', now: later });
    expect(existsSync(join(globbed, '.helmet-cache/project-v1.json'))).toBe(false);
    mkdirSync(join(globbed, 'components/local/rocket'));
    writeFileSync(join(globbed, 'components/local/rocket/component.yaml'), component('rocket'));
    expect((await openProject(globbed, { buildId: 'b1', now: later })).components.map((c) => c.name)).toEqual(['roc', 'rocket']);
  });

  it('images: a base no component.yaml describes is built like a component, and the FROM lines that name it start from it', async () => {
    const root = project({
      'components/local/base/Dockerfile': 'FROM busybox\nARG KFP_VERSION\n',
      'components/local/roc/component.yaml': component('ml-pipeline-local-roc'),
      'components/local/roc/Dockerfile': 'FROM ml-pipeline-local-base\nCOPY . /ml\n',
      'helmet-build.yaml': [
        'components: [components/local/roc]',
        'images:',
        '  ml-pipeline-local-base:',
        '    context: components/local/base',
        '    args: {KFP_VERSION: 1.7.0}',
        '',
      ].join('\n'),
    });
    const { components } = loadProject(root);
    expect(components.map((c) => c.name)).toEqual(['ml-pipeline-local-base', 'roc']);
    expect(components[0]).toMatchObject({
      kind: 'built',
      imageOnly: true,
      file: 'helmet-build.yaml',
      build: { image: 'ml-pipeline-local-base', dockerfilePath: join(root, 'components/local/base/Dockerfile'), args: { KFP_VERSION: '1.7.0' } },
    });
    expect(components[1]).toMatchObject({ base: { name: 'ml-pipeline-local-base' }, baseFromLines: [1] });
    const listed = await runCli(['list'], root);
    expect(listed.stdout).toContain('ml-pipeline-local-base from components/local/base/Dockerfile, an image of helmet-build.yaml (no KFP spec)');
    expect(listed.stdout).toContain(
      'roc              ml-pipeline-local-roc from components/local/roc/Dockerfile, found beside component.yaml (starts from ml-pipeline-local-base, named in FROM on line 1)',
    );
  });

  it('images: refused when the context is missing, the name is a component too, or a pipeline step names one', () => {
    const files = {
      'components/local/roc/component.yaml': component('ml-pipeline-local-roc'),
      'components/local/roc/Dockerfile': 'FROM busybox\n',
    };
    const missing = project({ ...files, 'helmet-build.yaml': 'components: [components/local/roc]\nimages:\n  base: {context: nowhere}\n' });
    expect(() => loadProject(missing)).toThrow(/helmet-build\.yaml:3:3: images\.base: context: folder not found: nowhere/);
    const twice = project({
      ...files,
      'components/local/b/Dockerfile': 'FROM busybox\n',
      'helmet-build.yaml': 'components: [components/local/roc]\nimages:\n  roc: {context: components/local/b}\n',
    });
    expect(() => loadProject(twice)).toThrow(/images\.roc: "roc" is also the name of a component/);
    const step = project({
      ...files,
      'components/local/b/Dockerfile': 'FROM busybox\n',
      'helmet-build.yaml': 'components: [components/local/roc]\nimages:\n  base: {context: components/local/b}\n',
      'pipeline.yaml': 'name: p\nsteps:\n  s: {component: base}\n',
    });
    expect(() => loadProject(step)).toThrow(/pipeline\.yaml:\d+:\d+: steps\.s\.component: unknown component "base"/);
  });

  it('add: folders merged into a context, from images:, a component entry and build:, each relative to where its context is', () => {
    const root = project({
      'components/local/base/Dockerfile': 'FROM busybox\nADD build /ml\n',
      'components/local/roc/component.yaml': component('ml-pipeline-local-roc'),
      'components/local/roc/Dockerfile': 'FROM busybox\n',
      'components/local/roc/src/roc.py': 'roc\n',
      'components/local/cm/component.yaml': component('ml-pipeline-local-cm', 'build:\n  add: {vendor: src}\n'),
      'components/local/cm/Dockerfile': 'FROM busybox\n',
      'components/local/cm/src/cm.py': 'cm\n',
      'helmet-build.yaml': [
        'components:',
        '  - path: components/local/roc',
        '    add: {lib/shared: ../cm/src}',
        '  - components/local/cm',
        'images:',
        '  ml-pipeline-local-base:',
        '    context: components/local/base',
        '    add:',
        '      build: [components/local/cm/src, components/local/roc/src]',
        '',
      ].join('\n'),
    });
    const built = Object.fromEntries(loadProject(root).components.map((c) => [c.name, c.kind === 'built' ? c.build.add : undefined]));
    expect(built).toEqual({
      'ml-pipeline-local-base': [{ at: 'build', from: [join(root, 'components/local/cm/src'), join(root, 'components/local/roc/src')] }],
      roc: [{ at: 'lib/shared', from: [join(root, 'components/local/cm/src')] }],
      cm: [{ at: 'vendor', from: [join(root, 'components/local/cm/src')] }],
    });
  });

  it('add: refused with file and line: a folder that is not there, one out of the project, a place out of the context', () => {
    const root = project({
      'components/local/base/Dockerfile': 'FROM busybox\n',
      'components/local/cm/component.yaml': component('ml-pipeline-local-cm', 'build:\n  add: {../up: src}\n'),
      'components/local/cm/Dockerfile': 'FROM busybox\n',
      'components/local/cm/src/cm.py': 'cm\n',
      'helmet-build.yaml': [
        'components: [components/local/cm]',
        'images:',
        '  base:',
        '    context: components/local/base',
        '    add: {build: [components/local/nowhere, ../outside]}',
        '',
      ].join('\n'),
    });
    const text = configErrorText(root);
    expect(text).toContain(
      'helmet-build.yaml:3:3: images.base: add: build: folder not found: components/local/nowhere (paths are relative to the project root)',
    );
    expect(text).toMatch(/helmet-build\.yaml:3:3: images\.base: add: build: must name folders inside the project \(\.\.\/outside resolves to /);
    expect(text).toMatch(/components\/local\/cm\/component\.yaml:\d+:\d+: build\.add\.\.\.\/up: "\.\.\/up" must be a folder inside the context/);
  });

  it('doctor says where each image comes from and what each FROM line resolves to', () => {
    const root = project({
      'components/local/base/Dockerfile': 'ARG PY=3.7\nFROM python:${PY}\n',
      'components/local/roc/component.yaml': component('ml-pipeline-local-roc'),
      'components/local/roc/Dockerfile': 'FROM busybox AS tools\nFROM ml-pipeline-local-base\nCOPY --from=tools /bin/sh /sh\n',
      'components/local/job/component.yaml': 'name: job\nimplementation:\n  container:\n    image: ml-pipeline-local-base:latest\n',
      'components/local/other/component.yaml': component('ml-pipeline-local-base'),
      'helmet-build.yaml':
        'components: [components/local/roc, components/local/job, components/local/other]\nimages:\n  ml-pipeline-local-base: {context: components/local/base}\n',
    });
    const loaded = loadProject(root);
    const lines = loaded.components.flatMap((c) => describeProvenance(imageProvenance(root, c)));
    expect(lines).toHaveLength(7);
    expect(lines.join('\n')).toContain(
      'roc: ml-pipeline-local-roc from components/local/roc/Dockerfile (the Dockerfile found beside component.yaml)\n  components/local/roc/Dockerfile:1',
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        'ml-pipeline-local-base: ml-pipeline-local-base from components/local/base/Dockerfile (an images: entry of helmet-build.yaml)',
        '  components/local/base/Dockerfile:2 FROM python:${PY} -> python:3.7, as the engine or its registry has it',
        'roc: ml-pipeline-local-roc from components/local/roc/Dockerfile (the Dockerfile found beside component.yaml)',
        '  components/local/roc/Dockerfile:1 FROM busybox -> busybox, as the engine or its registry has it',
        '  components/local/roc/Dockerfile:2 FROM ml-pipeline-local-base -> the image built here for ml-pipeline-local-base, pinned by digest',
        'job: prebuilt ml-pipeline-local-base:latest, pinned to the image built here for ml-pipeline-local-base',
        // Another registry's image of the same last name is another image: it stays prebuilt.
        'other: prebuilt gcr.io/ml-pipeline/ml-pipeline-local-base:1.7.0, pinned to the digest its registry serves for that tag (as written when no registry answers)',
      ]),
    );
  });

  it('plan --json says where each image comes from and which FROM lines name its base', async () => {
    const root = project({
      'components/local/base/Dockerfile': 'FROM busybox\n',
      'components/local/roc/component.yaml': component('ml-pipeline-local-roc'),
      'components/local/roc/Dockerfile': '# base first\nFROM ml-pipeline-local-base:1.7.0\n',
      'components/sample/hello/component.yaml': component('hello'),
      'helmet-build.yaml': 'components: [components/local/roc, components/sample/hello]\nimages:\n  ml-pipeline-local-base: {context: components/local/base}\n',
    });
    const { plan } = await planBuild({ root, push: 'reg.example/team' }, new FakeWorld().deps());
    const sources = planJson(plan, root).components.map((c) => [c.component, c.source, c.dockerfile, c.baseFromLines]);
    expect(sources).toEqual([
      ['hello', 'prebuilt', undefined, undefined],
      ['ml-pipeline-local-base', 'images', 'components/local/base/Dockerfile', undefined],
      ['roc', 'dockerfile-beside', 'components/local/roc/Dockerfile', [2]],
    ]);
  });
});
