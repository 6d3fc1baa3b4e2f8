/**
 * A Dockerfile that names its base by image name (`FROM ml-pipeline-local-base`, as KFP repositories
 * write it for a base their build script made) is built on the base this run built and pushed, pinned
 * by digest — never on a stale engine image that carries the same name — with both builders. The
 * component.yaml files keep their own `image:` lines and say only `build: {}`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, runCli } from '../support/project.js';
import { BUSYBOX, docker, removeImages, runImage, services, uniqueName } from '../support/services.js';

describe('FROM naming the image of another component', () => {
  const prefix = uniqueName('itest-fromname');
  const baseName = `${prefix}-base`;
  const component = (image: string) =>
    `name: ${image}\nimplementation:\n  container:\n    image: gcr.io/ml-pipeline/${image}:1.7.0\n    command: [/bin/sh]\nbuild: {}\n`;
  const project = makeProject({
    'components/base/component.yaml': component(baseName),
    'components/base/Dockerfile': 'FROM helmet/busybox:latest\nCOPY base.txt /base.txt\n',
    'components/base/base.txt': 'fresh base\n',
    'components/roc/component.yaml': component(`${prefix}-roc`),
    'components/roc/Dockerfile': `FROM ${baseName}\nCOPY roc.txt /roc.txt\nCMD ["/bin/sh", "-c", "cat /base.txt /roc.txt"]\n`,
    'components/roc/roc.txt': 'roc\n',
  });
  afterAll(async () => {
    await removeImages(`${services.registry}/${prefix}`);
    await removeImages(baseName);
    project.cleanup();
  });

  for (const builder of ['buildkit', 'classic'] as const) {
    it(`builds on the base of this run, not on the engine's stale ${baseName}:latest (${builder})`, async () => {
      // A stale image of that name in the engine: busybox, without /base.txt.
      await docker.getImage(BUSYBOX).tag({ repo: baseName, tag: 'latest' });
      const push = `${services.registry}/${prefix}/${builder}`;
      const r = await runCli(['all', '--push', push, '--builder', builder], project.root);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr.indexOf('[base] building')).toBeLessThan(r.stderr.indexOf('[roc] building'));
      const { base, roc } = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components;
      expect(base.image).toMatch(new RegExp(`^${push}/${baseName}@sha256:[0-9a-f]{64}$`));
      expect((await runImage(roc.image)).output).toBe('fresh base\nroc\n');
      const labels = (await docker.getImage(roc.image).inspect()).Config.Labels;
      expect(labels['io.helmet.base-image']).toBe(base.image);
      // The spec keeps everything but the image, which is the one built.
      const spec = readFileSync(join(project.root, 'dist/components/roc/component.yaml'), 'utf8');
      expect(spec).toContain(`image: ${roc.image}`);
      expect(spec).not.toContain('gcr.io/ml-pipeline');
    });
  }

  it('a change to the base rebuilds the component that names it, and nothing rebuilds on a second run', async () => {
    const push = `${services.registry}/${prefix}/buildkit`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(project.root, 'components/base/base.txt'), 'fresh base v2\n');
    const changed = await runCli(['all', '--push', push], project.root);
    expect(changed.code, changed.stderr).toBe(0);
    const { roc } = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components;
    expect(roc.action).toBe('pushed');
    expect((await runImage(roc.image)).output).toBe('fresh base v2\nroc\n');
    const again = await runCli(['all', '--push', push], project.root);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('done: 2 reused');
  });
});
