import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeProject, runCli, snapshotTree, TINY_DOCKERFILE, tinyComponent, writeTree } from '../support/project.js';
import { docker, registryDigest, removeImages, runImage, services, uniqueName } from '../support/services.js';

describe.each(['buildkit', 'classic'])('helmet-build all --push (real engine and registry, %s builder)', (builder) => {
  const prefix = uniqueName(`itest-${builder}`);
  const project = makeProject({
    ...TINY_DOCKERFILE,
    ...tinyComponent('hello', 'hello', 'hello says hi'),
    ...tinyComponent('world', 'world', 'world says hi'),
  });
  let push: string;
  let first: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    push = `${services.registry}/${prefix}`;
    first = await runCli(['all', '--push', push, '--tag', 'v1', '--builder', builder], project.root);
  });
  afterAll(async () => {
    await removeImages(push);
    project.cleanup();
  });

  it('exits 0 and writes a pinned spec per component whose digest is the registry digest', async () => {
    expect(first.stderr).toContain('done: 2 pushed');
    expect(first.code).toBe(0);
    for (const name of ['hello', 'world']) {
      const spec = parse(readFileSync(join(project.root, 'dist/components', name, 'component.yaml'), 'utf8'));
      const image: string = spec.implementation.container.image;
      expect(image).toMatch(new RegExp(`^${push.replace(/\./g, '\\.')}/${name}@sha256:[0-9a-f]{64}$`));
      expect(spec.build).toBeUndefined();
      expect(spec.implementation.container.args).toEqual(['--who', { inputValue: 'who' }]);
      const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
      const entry = report.components[name];
      const contentTag = entry.tags[0];
      expect(contentTag).toBe(`in-${entry.inputDigest.slice(7, 23)}`);
      const digest = image.split('@')[1];
      expect(await registryDigest(services.registry, `${prefix}/${name}`, contentTag)).toBe(digest);
      expect(await registryDigest(services.registry, `${prefix}/${name}`, 'v1')).toBe(digest);
      expect(entry).toMatchObject({ action: 'pushed', digest, pinnedBy: 'registry-digest' });
    }
  });

  it('the pinned reference pulls from the registry and runs the entrypoint', async () => {
    const spec = parse(readFileSync(join(project.root, 'dist/components/hello/component.yaml'), 'utf8'));
    const ref: string = spec.implementation.container.image;
    await removeImages(`${push}/hello`);
    await new Promise<void>((resolve, reject) =>
      docker.pull(ref, {}, (err: unknown, stream: NodeJS.ReadableStream) => {
        if (err) return reject(err);
        docker.modem.followProgress(stream, (e: unknown) => (e ? reject(e) : resolve()));
      }),
    );
    const { output, exitCode } = await runImage(ref);
    expect(exitCode).toBe(0);
    expect(output.trim()).toBe('hello says hi');
    const info = await docker.getImage(ref).inspect();
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    expect(info.Config.Labels['io.helmet.input-digest']).toBe(report.components.hello.inputDigest);
  });

  it('a second run with nothing changed reuses both images without building, and adds new tags in the registry', async () => {
    const again = await runCli(['all', '--push', push, '--json', '--tag', 'v2', '--builder', builder], project.root);
    expect(again.code).toBe(0);
    const events = again.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'job-started' && e.kind !== 'lookup' && e.kind !== 'publish')).toEqual([]);
    const plan = events.find((e) => e.type === 'plan');
    expect(plan.entries.map((e: { component: string; state: string; missingTags: string[] }) => [e.component, e.state, e.missingTags])).toEqual([
      ['hello', 'needs-tag', ['v2']],
      ['world', 'needs-tag', ['v2']],
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'result', ok: true, exitCode: 0 });
    for (const name of ['hello', 'world']) {
      const spec = parse(readFileSync(join(project.root, 'dist/components', name, 'component.yaml'), 'utf8'));
      expect(await registryDigest(services.registry, `${prefix}/${name}`, 'v2')).toBe(spec.implementation.container.image.split('@')[1]);
    }
  });
});

describe.each(['buildkit', 'classic'])('a failing component (%s builder)', (builder) => {
  const prefix = uniqueName(`itest-fail-${builder}`);
  const project = makeProject({
    ...TINY_DOCKERFILE,
    'dockerfiles/broken.Dockerfile': 'FROM helmet/busybox:latest\nRUN echo about to fail && false\n',
    ...tinyComponent('good', 'good', 'good'),
    ...tinyComponent('bad', 'bad', 'bad', 'dockerfiles/broken.Dockerfile'),
  });
  afterAll(async () => {
    await removeImages(`${services.registry}/${prefix}`);
    project.cleanup();
  });

  it('fails with the engine message and exit 1, while the other component finishes', async () => {
    const push = `${services.registry}/${prefix}`;
    const { code, stderr } = await runCli(['all', '--push', push, '--builder', builder], project.root);
    expect(code).toBe(1);
    expect(stderr).toContain('[bad] FAILED (BUILD_FAILED)');
    // The failing step is named, whichever builder ran it, and what it printed is shown.
    expect(stderr).toMatch(/step "(\[[^\]]*\d+\/\d+\]|Step \d+\/\d+ :) RUN echo about to fail && false" failed: .*(returned a non-zero code: 1|exit code: 1)/);
    expect(stderr).toContain('about to fail');
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    expect(report.ok).toBe(false);
    expect(report.components.bad).toMatchObject({ action: 'failed', error: { code: 'BUILD_FAILED' } });
    expect(report.components.good.action).toBe('pushed');
    const good = parse(readFileSync(join(project.root, 'dist/components/good/component.yaml'), 'utf8'));
    expect(good.implementation.container.image).toBe(report.components.good.image);
    expect(() => readFileSync(join(project.root, 'dist/components/bad/component.yaml'))).toThrow();
  });
});

describe('local builds (no --push)', () => {
  const image = uniqueName('itest-local');
  const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('solo', image, 'solo') });
  afterAll(async () => {
    await removeImages(image);
    project.cleanup();
  });

  it('tags locally, pins the spec to the image ID, and reuses it by its input-digest label', async () => {
    await execa('git', ['init', '-q'], { cwd: project.root });
    await execa('git', ['remote', 'add', 'origin', 'https://user:token@git.example/team/helmet.git'], { cwd: project.root });
    await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example', 'commit', '-q', '--allow-empty', '-m', 'x'], { cwd: project.root });
    const head = (await execa('git', ['rev-parse', 'HEAD'], { cwd: project.root })).stdout;
    const first = await runCli(['build', 'solo'], project.root);
    expect(first.code).toBe(0);
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    expect(report.components.solo).toMatchObject({ action: 'built', pinnedBy: 'local-image-id' });
    const spec = parse(readFileSync(join(project.root, 'dist/components/solo/component.yaml'), 'utf8'));
    expect(spec.implementation.container.image).toBe(report.components.solo.imageId);
    expect((await runImage(spec.implementation.container.image)).output.trim()).toBe('solo');
    const labels = (await docker.getImage(report.components.solo.imageId).inspect()).Config.Labels;
    expect(labels).toMatchObject({
      'org.opencontainers.image.revision': head,
      // Credentials in a remote URL never reach an image.
      'org.opencontainers.image.source': 'https://git.example/team/helmet.git',
      'io.helmet.component': 'solo',
      'io.helmet.input-digest': report.components.solo.inputDigest,
    });

    const second = await runCli(['build', 'solo'], project.root);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('[solo] up to date: sha256:');
    expect(second.stderr).toContain('done: 1 reused');
    const forced = await runCli(['build', 'solo', '--no-cache'], project.root);
    expect(forced.stderr).toContain('[solo] needs a build: a build is forced by --no-cache');
    expect(forced.stderr).toContain('[solo] building');
    // The rebuild moved the tag: the first image is untagged now, so remove it by ID.
    await docker
      .getImage(report.components.solo.imageId)
      .remove({ force: true })
      .catch(() => undefined);
  });
});

describe('plan', () => {
  const prefix = uniqueName('itest-plan');
  const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('one', 'one', 'one'), ...tinyComponent('two', 'two', 'two') });
  afterAll(async () => {
    await removeImages(`${services.registry}/${prefix}`);
    project.cleanup();
  });

  it('says what is up to date and what would be built, and why, without building or writing anything', async () => {
    const push = `${services.registry}/${prefix}`;
    expect((await runCli(['all', '--push', push], project.root)).code).toBe(0);
    const dist = snapshotTree(join(project.root, 'dist'));
    const clean = await runCli(['plan', '--push', push], project.root);
    expect(clean.code).toBe(0);
    expect(clean.stderr).toContain('plan: 2 up-to-date');

    writeTree(project.root, { 'components/two/extra.txt': 'new file' });
    const changed = await runCli(['plan', '--push', push, '--json'], project.root);
    expect(changed.code).toBe(0);
    const plan = JSON.parse(changed.stdout);
    expect(plan).toMatchObject({ type: 'plan', version: 1, push, tags: [] });
    expect(plan.components.map((e: { state: string }) => e.state)).toEqual(['up-to-date', 'needs-build']);
    expect(plan.components[1]).toMatchObject({
      component: 'two',
      changes: ['files: extra.txt (added)'],
      reason: expect.stringMatching(/^files: extra\.txt \(added\) \(.*\/two:in-[0-9a-f]{16} is not in the registry\)$/),
    });
    expect(snapshotTree(join(project.root, 'dist'))).toEqual(dist);
  });
});
