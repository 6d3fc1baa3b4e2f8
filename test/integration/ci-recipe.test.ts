import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { KfpApiServer } from '../support/kfp-api-server.js';
import { makeProject, TINY_DOCKERFILE, TINY_PIPELINE, tinyComponent } from '../support/project.js';
import { removeImages, services, uniqueName } from '../support/services.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'helmet-build.js');

/** The command lines docs/ci.md gives, between its ci-commands markers. */
function recipeCommands(): string[] {
  const doc = readFileSync(join(ROOT, 'docs/ci.md'), 'utf8');
  const block = /<!-- ci-commands:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- ci-commands:end -->/.exec(doc);
  if (!block) throw new Error('docs/ci.md has no ci-commands block');
  return block[1]!.trim().split('\n');
}

describe('the CI recipe of docs/ci.md (real engine and registry)', () => {
  const registry = `${services.registry}/${uniqueName('itest-ci')}`;
  const project = makeProject({
    ...TINY_DOCKERFILE,
    ...tinyComponent('hello', 'hello', 'hello'),
    ...tinyComponent('world', 'world', 'world'),
    'pipeline.yaml': TINY_PIPELINE,
  });
  // No KFP cluster runs here: submit goes to the loopback KFP API server (KFP 2.x mode).
  const kfp = new KfpApiServer({ mode: 'v2', token: 'ci-token' });
  afterAll(async () => {
    await kfp.stop();
    await removeImages(registry);
    project.cleanup();
  });

  /** Run the doc's lines in bash, as a CI job would, with helmet-build standing for this checkout's CLI. */
  const runRecipe = () =>
    execa('bash', ['-euo', 'pipefail', '-c', `helmet-build() { node ${BIN} "$@"; }\n${recipeCommands().join('\n')}`], {
      cwd: project.root,
      env: { REGISTRY: registry, CI_COMMIT_SHA: 'c0ffee1', KF_PIPELINES_ENDPOINT: kfp.url, KF_PIPELINES_TOKEN: 'ci-token' },
      reject: false,
    });

  it('runs and exits 0; a second run reuses every component', async () => {
    expect(recipeCommands()).toHaveLength(4);
    await kfp.start();
    const first = await runRecipe();
    expect(first.exitCode, first.stderr).toBe(0);
    const events = () =>
      readFileSync(join(project.root, 'build-events.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    expect(events().at(-1)).toMatchObject({ type: 'result', ok: true });
    expect(JSON.parse(readFileSync(join(project.root, 'plan.json'), 'utf8')).components.map((c: { state: string }) => c.state)).toEqual([
      'needs-build',
      'needs-build',
    ]);

    const second = await runRecipe();
    expect(second.exitCode, second.stderr).toBe(0);
    expect(events().filter((e) => e.type === 'job-started' && (e.kind === 'build' || e.kind === 'push'))).toEqual([]);
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    expect(Object.values(report.components).map((c) => (c as { action: string }).action)).toEqual(['reused', 'reused']);
    expect(readFileSync(join(project.root, 'dist/tiny.yaml'), 'utf8')).toContain(`${registry}/helmet/hello@sha256:`);
    // The pipeline spec went to KFP once; the unchanged second run reused its version and started a second run.
    expect(kfp.pipelines.map((p) => p.name)).toEqual(['tiny']);
    expect(kfp.versions).toHaveLength(1);
    expect(kfp.runs.map((r) => r.name)).toEqual(['ci c0ffee1', 'ci c0ffee1']);
    expect(readFileSync(join(project.root, 'submit-events.ndjson'), 'utf8')).toContain('"action":"version-reused"');
  });
});
