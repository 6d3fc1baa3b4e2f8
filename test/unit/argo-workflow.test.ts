/**
 * The KFP v1 pipeline package against kfp 1.8.22's own output (../shared/kfp/v1-argo, compiled from the
 * pipeline.yaml and pinned component files beside it): byte for byte, apart from the compile time.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildArgoWorkflow, renderArgoWorkflow, type V1ComponentFile } from '../../src/kfp/argo-workflow.js';
import { compileTime } from '../../src/kfp/v1-package-meta.js';
import { RunRecords } from '../../src/output/records.js';
import { loadProject } from '../../src/project/load-project.js';
import { writeTree } from '../support/project.js';

const REPO = join(import.meta.dirname, '..', '..');
const V1_ARGO = join(REPO, 'test', 'fixtures', 'kfp-v1-argo');
const TIME = /pipelines\.kubeflow\.org\/pipeline_compilation_time: '([^']*)'/;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A project made of a reference folder: its pipeline.yaml and its pinned (prebuilt) components. */
function compileReference(folder: string): { expected: string; actual: string } {
  const root = mkdtempSync(join(tmpdir(), 'helmet-v1-'));
  dirs.push(root);
  cpSync(join(V1_ARGO, folder), root, { recursive: true });
  const project = loadProject(root);
  const pipeline = project.pipeline!;
  const files = new Map<string, V1ComponentFile>();
  for (const c of project.components) {
    const url = `dist/components/${c.name}/component.yaml`;
    files.set(c.name, { image: c.kind === 'prebuilt' ? c.image : '', text: readFileSync(join(root, 'components', c.name, 'component.yaml'), 'utf8'), url });
  }
  const expected = readFileSync(join(V1_ARGO, folder, `${pipeline.name}.v1.yaml`), 'utf8');
  const time = TIME.exec(expected)![1]!;
  return { expected, actual: renderArgoWorkflow(buildArgoWorkflow(pipeline, files, time)) };
}

describe('the KFP v1 package of the helmet pipeline', () => {
  it('is what kfp 1.8.22 compiles, byte for byte (the compile time taken from the reference)', () => {
    const { expected, actual } = compileReference('helmet');
    expect(actual).toBe(expected);
  });
});

describe('the KFP v1 package with image pull secrets', () => {
  // pull_secrets.py: one component loaded from text (so component_ref has a digest and no url), a String
  // parameter with a default, and set_image_pull_secrets on the pipeline conf.
  const component = `
name: step
inputs: [{name: msg, type: String}]
implementation:
  container:
    image: harbor.example.com/ml/helmet-ingest@sha256:${'a'.repeat(64)}
    command: [sh, -c]
    args: [echo, {inputValue: msg}]
`;
  it('is what kfp 1.8.22 compiles for pull_secrets.py: spec.imagePullSecrets after serviceAccountName', () => {
    const root = mkdtempSync(join(tmpdir(), 'helmet-v1-'));
    dirs.push(root);
    writeTree(root, {
      'components/step/component.yaml': component,
      'pipeline.yaml':
        'name: pull-secrets\nparameters: {msg: {type: String, default: hi}}\nimagePullSecrets: [harbor-cred]\nsteps: {step: {component: step, args: {msg: {param: msg}}}}\n',
    });
    const pipeline = loadProject(root).pipeline!;
    const expected = readFileSync(join(V1_ARGO, 'pull-secrets', 'pull-secrets.v1.yaml'), 'utf8');
    const files = new Map([['step', { image: `harbor.example.com/ml/helmet-ingest@sha256:${'a'.repeat(64)}`, text: component }]]);
    expect(renderArgoWorkflow(buildArgoWorkflow(pipeline, files, TIME.exec(expected)![1]!))).toBe(expected);
  });
});

describe('compile time', () => {
  it("is Python's datetime.now().isoformat(): local time, microseconds unless zero", () => {
    expect(compileTime(new Date(2026, 11, 1, 20, 14, 12, 433))).toBe('2026-12-01T20:14:12.433000');
    expect(compileTime(new Date(2026, 0, 2, 3, 4, 5, 0))).toBe('2026-01-02T03:04:05');
  });
});

describe('the compile time of a re-written package', () => {
  it('is kept when nothing else changed, so a re-run writes the same bytes; it is the new time otherwise', async () => {
    const root = mkdtempSync(join(tmpdir(), 'helmet-v1-'));
    dirs.push(root);
    const records = new RunRecords(root, join(root, 'dist'), undefined, () => {});
    const render = (body: string) => (t: string) => `a: {pipelines.kubeflow.org/pipeline_compilation_time: '${t}'}\nbody: ${body}\n`;
    const read = () => readFileSync(join(root, 'dist', 'p.v1.yaml'), 'utf8');
    await records.writePipelinePackage('p', 'one', render('one'), new Date(2026, 0, 1, 10, 0, 0, 5));
    const first = read();
    expect(first).toContain("'2026-01-01T10:00:00.005000'");
    await records.writePipelinePackage('p', 'one', render('one'), new Date(2026, 0, 2));
    expect(read()).toBe(first);
    await records.writePipelinePackage('p', 'two', render('two'), new Date(2026, 0, 3, 8, 30));
    expect(read()).toBe(render('two')('2026-01-03T08:30:00'));
  });
});
