import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeProject, runCli, TINY_DOCKERFILE, tinyComponent, writeTree } from '../support/project.js';
import { removeImages, services, uniqueName } from '../support/services.js';

/** A component without build: keeps its image, pinned to the registry's digest when it resolves. */
describe('prebuilt components', () => {
  const prefix = uniqueName('itest-prebuilt');
  const push = () => `${services.registry}/${prefix}`;
  const prebuilt = (name: string, image: string) => ({
    [`components/${name}/component.yaml`]: `name: ${name}\nimplementation:\n  container:\n    image: ${image}\n    command: [sh, -c, 'echo hi']\n`,
  });
  const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('base', 'base', 'base') });
  afterAll(async () => {
    await removeImages(push());
    project.cleanup();
  });

  it('pins a tag the registry knows to its digest, and keeps a tag it cannot resolve, with a warning', async () => {
    expect((await runCli(['build', 'base', '--push', push(), '--tag', 'v1'], project.root)).code).toBe(0);
    const baseDigest = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components.base.digest;
    writeTree(project.root, { ...prebuilt('known', `${push()}/base:v1`), ...prebuilt('unknown', '127.0.0.1:9/nowhere/x:1') });

    const r = await runCli(['build', 'known', 'unknown', '--push', push()], project.root);
    expect(r.code).toBe(0);
    const spec = (n: string) => parse(readFileSync(join(project.root, 'dist/components', n, 'component.yaml'), 'utf8'));
    expect(spec('known').implementation.container.image).toBe(`${push()}/base@${baseDigest}`);
    expect(spec('unknown').implementation.container.image).toBe('127.0.0.1:9/nowhere/x:1');
    expect(r.stderr).toMatch(/\[unknown\] warning: cannot pin 127\.0\.0\.1:9\/nowhere\/x:1 to a digest: cannot reach registry/);
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components;
    expect(report.known).toMatchObject({ action: 'reused', pinnedBy: 'registry-digest', digest: baseDigest });
    expect(report.unknown).toMatchObject({ action: 'reused', pinnedBy: 'tag' });
  });
});
