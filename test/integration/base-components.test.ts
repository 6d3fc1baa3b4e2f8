import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, runCli } from '../support/project.js';
import { removeImages, runImage, services, uniqueName } from '../support/services.js';

/** `build.from`: a component built on another component's image, which is built first. */
describe('components that start from another component', () => {
  const prefix = uniqueName('itest-from');
  const component = (name: string, extra: string) =>
    `name: ${name}\nimplementation:\n  container:\n    command: [/bin/sh]\nbuild:\n  image: ${name}\n  dockerfile: dockerfiles/${name}.Dockerfile\n${extra}`;
  const project = makeProject({
    'dockerfiles/base.Dockerfile': 'FROM helmet/busybox:latest\nCOPY base.txt /base.txt\n',
    'dockerfiles/child.Dockerfile':
      'ARG BASE_IMAGE=must-be-given\nFROM ${BASE_IMAGE}\nCOPY child.txt /child.txt\nCMD ["/bin/sh", "-c", "cat /base.txt /child.txt"]\n',
    'components/base/component.yaml': component('base', ''),
    'components/base/base.txt': 'base v1\n',
    'components/child/component.yaml': component('child', '  from: base\n'),
    'components/child/child.txt': 'child\n',
  });
  const push = () => `${services.registry}/${prefix}`;
  const report = () => JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components;
  afterAll(async () => {
    await removeImages(push());
    project.cleanup();
  });

  it('building the child builds the base first and passes it as BASE_IMAGE, pinned by digest', async () => {
    const r = await runCli(['build', 'child', '--push', push(), '--concurrency', '2'], project.root);
    expect(r.code).toBe(0);
    expect(r.stderr.indexOf('[base] building')).toBeLessThan(r.stderr.indexOf('[child] building'));
    const { base, child } = report();
    expect(base.action).toBe('pushed');
    expect(child.action).toBe('pushed');
    expect((await runImage(child.image)).output).toBe('base v1\nchild\n');
  });

  it("a change in the base changes the child's input digest, so both are rebuilt", async () => {
    const before = report();
    writeFileSync(join(project.root, 'components/base/base.txt'), 'base v2\n');
    const r = await runCli(['all', '--push', push()], project.root);
    expect(r.code).toBe(0);
    const after = report();
    expect(after.base.inputDigest).not.toBe(before.base.inputDigest);
    expect(after.child.inputDigest).not.toBe(before.child.inputDigest);
    expect(after.child.action).toBe('pushed');
    expect((await runImage(after.child.image)).output).toBe('base v2\nchild\n');
  });

  it('a failing base fails its dependants without building them', async () => {
    writeFileSync(join(project.root, 'dockerfiles/base.Dockerfile'), 'FROM helmet/busybox:latest\nRUN exit 3\n');
    const r = await runCli(['all', '--push', push()], project.root);
    expect(r.code).toBe(1);
    const { base, child } = report();
    expect(base.error.code).toBe('BUILD_FAILED');
    expect(child.error).toMatchObject({ code: 'DEPENDENCY_FAILED' });
    expect(r.stderr).not.toContain('[child] building');
  });
});
