/**
 * The KFP v1 package dist/<name>.v1.yaml follows the v2 spec's publish rules, against the real engine
 * and registry: written by `all --push` and `emit` with the pushed digests, byte-identical on a re-run
 * (the compile time of an unchanged package is kept), and left byte-identical when a component fails.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeProject, runCli, TINY_DOCKERFILE, TINY_PIPELINE, tinyComponent } from '../support/project.js';
import { removeImages, services, uniqueName } from '../support/services.js';

describe('the KFP v1 package on --push and by emit', () => {
  const prefix = uniqueName('itest-v1');
  const project = makeProject({
    ...TINY_DOCKERFILE,
    'dockerfiles/world.Dockerfile': TINY_DOCKERFILE['dockerfiles/tiny.Dockerfile'],
    ...tinyComponent('hello', 'hello', 'hello'),
    ...tinyComponent('world', 'world', 'world', 'dockerfiles/world.Dockerfile'),
    'pipeline.yaml': TINY_PIPELINE,
  });
  const push = () => `${services.registry}/${prefix}`;
  const pkg = () => readFileSync(join(project.root, 'dist/tiny.v1.yaml'), 'utf8');
  afterAll(async () => {
    await removeImages(push());
    project.cleanup();
  });

  it('all --push writes dist/tiny.v1.yaml with the pushed digests; a re-run and emit leave it byte-identical', async () => {
    const first = await runCli(['all', '--push', push()], project.root);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('wrote dist/tiny.v1.yaml');
    const text = pkg();
    const workflow = parse(text);
    expect(workflow.kind).toBe('Workflow');
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    const images = Object.fromEntries(workflow.spec.templates.filter((t: any) => t.container).map((t: any) => [t.name, t.container.image]));
    expect(images).toEqual({ first: report.components.hello.image, second: report.components.world.image });
    expect(text).toContain('"url": "dist/components/hello/component.yaml"');

    const again = await runCli(['all', '--push', push()], project.root);
    expect(again.code).toBe(0);
    expect(pkg()).toBe(text);
    const emitted = await runCli(['emit', '--push', push()], project.root);
    expect(emitted.code).toBe(0);
    expect(pkg()).toBe(text);
  });

  it('a failed component leaves the previous v1 package byte-identical', async () => {
    const before = pkg();
    writeFileSync(join(project.root, 'dockerfiles/world.Dockerfile'), 'FROM helmet/busybox:latest\nRUN exit 3\n');
    writeFileSync(join(project.root, 'components/hello/main.sh'), 'echo "hello, changed"\n');
    const failed = await runCli(['all', '--push', push()], project.root);
    expect(failed.code).toBe(1);
    expect(failed.stderr).not.toContain('wrote dist/tiny.v1.yaml');
    expect(pkg()).toBe(before);
  });
});
