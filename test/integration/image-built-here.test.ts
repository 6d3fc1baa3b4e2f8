/**
 * The shape of lehrig/kubeflow-ppc64le-components, written for the test: a base image built by a
 * script (an `images:` entry here), and component.yaml files with no Dockerfile of their own that
 * name that image by tag. They are pinned to the digest this run pushed for it, not to whatever the
 * tag points at; a second run pins them to the same digest without building anything.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, runCli } from '../support/project.js';
import { removeImages, services, uniqueName } from '../support/services.js';

describe('a prebuilt component.yaml naming an image built in the same run', () => {
  const prefix = uniqueName('itest-herebuilt');
  const base = `quay.io/ibm/${prefix}-k8s-client`;
  const component = (name: string) => `name: ${name}\nimplementation:\n  container:\n    image: ${base}:latest\n    command: [/bin/sh, -c, 'echo ${name}']\n`;
  const project = makeProject({
    'helmet-build.yaml': ["components: ['components/*/component.yaml']", 'images:', `  ${base}:`, '    context: base-images/k8s-client', ''].join('\n'),
    'base-images/k8s-client/Dockerfile': 'FROM helmet/busybox:latest\nCOPY client.txt /client.txt\n',
    'base-images/k8s-client/client.txt': 'v1\n',
    'components/create-job/component.yaml': component('create-job'),
    'components/delete-job/component.yaml': component('delete-job'),
  });
  const push = `${services.registry}/${prefix}`;
  afterAll(async () => {
    await removeImages(push);
    project.cleanup();
  });
  const specImage = (name: string) => /image: (\S+)/.exec(readFileSync(join(project.root, `dist/components/${name}/component.yaml`), 'utf8'))![1];

  it('pins both to the digest this run pushed for the base; a second run builds nothing and pins the same', async () => {
    const listed = await runCli(['list'], project.root);
    expect(listed.stdout).toContain(`create-job       prebuilt ${base}:latest (pinned to the image of ${base}, built here)`);
    const r = await runCli(['all', '--push', push], project.root);
    expect(r.code, r.stderr).toBe(0);
    const { components } = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    const pushed = components[base].image as string;
    expect(pushed).toMatch(new RegExp(`^${push}/${prefix}-k8s-client@sha256:[0-9a-f]{64}$`));
    expect(components['create-job'].image).toBe(pushed);
    expect(specImage('create-job')).toBe(pushed);
    expect(specImage('delete-job')).toBe(pushed);
    const again = await runCli(['all', '--push', push], project.root);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('done: 3 reused');
    expect(specImage('delete-job')).toBe(pushed);
  });

  it('a change to the base moves the pins to the new digest; building one of them builds the base first', async () => {
    writeFileSync(join(project.root, 'base-images/k8s-client/client.txt'), 'v2\n');
    const plan = JSON.parse((await runCli(['plan', '--push', push, '--json', 'create-job'], project.root)).stdout) as {
      components: { component: string; state: string; source: string; imageOf?: string }[];
    };
    expect(plan.components.map((c) => [c.component, c.state, c.source])).toEqual([
      [base, 'needs-build', 'images'],
      ['create-job', 'pinned-after-build', 'image-built-here'],
    ]);
    const before = specImage('create-job');
    const r = await runCli(['build', 'create-job', '--push', push], project.root);
    expect(r.code, r.stderr).toBe(0);
    const { components } = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    expect(components[base].action).toBe('pushed');
    expect(specImage('create-job')).toBe(components[base].image);
    expect(specImage('create-job')).not.toBe(before);
  });
});
