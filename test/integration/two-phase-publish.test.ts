import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/engine/docker-engine.js';
import type { HelmetEvent } from '../../src/events.js';
import { runBuild } from '../../src/flow/build.js';
import { CredentialSource } from '../../src/registry/credentials.js';
import { RegistryClient } from '../../src/registry/registry-client.js';
import { makeProject, runCli, snapshotTree, TINY_DOCKERFILE, TINY_PIPELINE, tinyComponent } from '../support/project.js';
import { registryProxy } from '../support/registry-proxy.js';
import { registryDigest, removeImages, services, uniqueName } from '../support/services.js';

const ndjson = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

/** `world` fails to build while components/world/broken exists. */
function twoComponentProject() {
  return makeProject({
    ...TINY_DOCKERFILE,
    'dockerfiles/guarded.Dockerfile': 'FROM helmet/busybox:latest\nCOPY . /app\nRUN test ! -e /app/broken || (echo "broken on purpose" && false)\n',
    ...tinyComponent('hello', 'hello', 'hello v1'),
    ...tinyComponent('world', 'world', 'world v1', 'dockerfiles/guarded.Dockerfile'),
    'pipeline.yaml': TINY_PIPELINE,
  });
}

describe('two-phase publish (real engine and registry)', () => {
  const prefix = uniqueName('itest-publish');
  const project = twoComponentProject();
  const push = `${services.registry}/${prefix}`;
  afterAll(async () => {
    await removeImages(push);
    project.cleanup();
  });

  it('a failure moves no user tag and leaves the pipeline spec; the re-run builds only what failed, then moves the tags on both', async () => {
    expect((await runCli(['all', '--push', push, '--tag', 'rel1'], project.root)).code).toBe(0);
    const rel1 = {
      hello: await registryDigest(services.registry, `${prefix}/hello`, 'rel1'),
      world: await registryDigest(services.registry, `${prefix}/world`, 'rel1'),
    };
    const pipelineSpec = readFileSync(join(project.root, 'dist/tiny.yaml'), 'utf8');

    writeFileSync(join(project.root, 'components/hello/main.sh'), 'echo "hello v2"\n');
    writeFileSync(join(project.root, 'components/world/main.sh'), 'echo "world v2"\n');
    writeFileSync(join(project.root, 'components/world/broken'), 'yes\n');
    const failed = await runCli(['all', '--push', push, '--tag', 'rel2'], project.root);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('[world] FAILED (BUILD_FAILED)');
    // hello's new image is pushed under its content tag and recorded …
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    expect(report.components.hello).toMatchObject({ action: 'pushed', tags: [expect.stringMatching(/^in-/)] });
    expect(await registryDigest(services.registry, `${prefix}/hello`, report.components.hello.tags[0])).toBe(report.components.hello.digest);
    expect(report.components.world).toMatchObject({ action: 'failed', lastGood: { digest: rel1.world } });
    // … but no user tag moved, and the pipeline spec is the one of the last good run.
    expect(await registryDigest(services.registry, `${prefix}/hello`, 'rel2')).toBeNull();
    expect(await registryDigest(services.registry, `${prefix}/world`, 'rel2')).toBeNull();
    expect(await registryDigest(services.registry, `${prefix}/hello`, 'rel1')).toBe(rel1.hello);
    expect(await registryDigest(services.registry, `${prefix}/world`, 'rel1')).toBe(rel1.world);
    expect(readFileSync(join(project.root, 'dist/tiny.yaml'), 'utf8')).toBe(pipelineSpec);

    rmSync(join(project.root, 'components/world/broken'));
    const fixed = await runCli(['all', '--push', push, '--tag', 'rel2', '--json'], project.root);
    expect(fixed.code).toBe(0);
    const events = ndjson(fixed.stdout);
    expect(events.filter((e) => e.type === 'job-started' && e.kind === 'build').map((e) => e.subject)).toEqual(['world']);
    const after = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    for (const name of ['hello', 'world']) {
      expect(await registryDigest(services.registry, `${prefix}/${name}`, 'rel2')).toBe(after.components[name].digest);
      expect(after.components[name].tags).toEqual([expect.stringMatching(/^in-/), 'rel2']);
    }
    expect(readFileSync(join(project.root, 'dist/tiny.yaml'), 'utf8')).not.toBe(pipelineSpec);
  });
});

describe('registry faults through a loopback proxy (real engine and registry)', () => {
  const prefix = uniqueName('itest-faults');
  const images: string[] = [];
  afterAll(async () => {
    for (const i of images) await removeImages(i);
  });

  it('a 403 from the registry is "forbidden" with exit 1, never "unreachable" (3)', async () => {
    const proxy = await registryProxy(services.registry, (req) => (req.method === 'GET' && req.url!.includes('/manifests/') ? { status: 403 } : undefined));
    const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('hello', 'hello', 'hi') });
    try {
      const r = await runCli(['all', '--push', `${proxy.host}/${prefix}`], project.root);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('FAILED (REGISTRY_FORBIDDEN)');
      expect(r.stderr).toContain(`registry ${proxy.host} forbids GET ${prefix}/hello:in-`);
      expect(r.stderr).not.toMatch(/unreachable|cannot reach/i);
    } finally {
      await proxy.close();
      project.cleanup();
    }
  });

  it('a slow push does not delay the next build: with --concurrency 1, build b starts while a is still pushing', async () => {
    // Completing a blob upload of component a takes 3 s longer at the proxy.
    const proxy = await registryProxy(services.registry, (req) =>
      req.url!.startsWith(`/v2/${prefix}/a/blobs/uploads`) && req.method === 'PUT' ? { delayMs: 3000 } : undefined,
    );
    images.push(`${proxy.host}/${prefix}`);
    const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('a', 'a', 'a'), ...tinyComponent('b', 'b', 'b') });
    const events: { at: number; e: HelmetEvent }[] = [];
    try {
      const credentials = new CredentialSource();
      const result = await runBuild(
        { root: project.root, push: `${proxy.host}/${prefix}`, concurrency: 1, components: ['a', 'b'] },
        { engine: new DockerEngine(), registry: new RegistryClient(credentials), credentials, onEvent: (e) => events.push({ at: Date.now(), e }) },
      );
      expect(result.results.map((r) => r.error?.message)).toEqual([undefined, undefined]);
      const at = (type: string, job: string) => events.find(({ e }) => e.type === type && 'job' in e && e.job === job)!.at;
      expect(at('job-started', 'build:b')).toBeLessThan(at('job-finished', 'push:a'));
      expect(at('job-finished', 'push:a') - at('job-started', 'push:a')).toBeGreaterThanOrEqual(3000);
    } finally {
      await proxy.close();
      project.cleanup();
    }
  });
  it('one 503 on the reuse lookup and one on a blob upload: retried, and the run succeeds', async () => {
    let headFaults = 1;
    let uploadFaults = 1;
    const proxy = await registryProxy(services.registry, (req) => {
      if (req.method === 'GET' && req.url!.includes('/manifests/in-') && headFaults > 0) return (headFaults--, { status: 503 });
      if (req.method === 'PUT' && req.url!.includes('/blobs/uploads/') && uploadFaults > 0) return (uploadFaults--, { status: 503 });
      return undefined;
    });
    images.push(`${proxy.host}/${prefix}`);
    const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('once', 'once', `once ${prefix}`) });
    try {
      const r = await runCli(['all', '--push', `${proxy.host}/${prefix}`], project.root);
      expect(r.code, r.stderr).toBe(0);
      expect(headFaults + uploadFaults).toBe(0);
      expect(r.stderr).toContain('done: 1 pushed');
    } finally {
      await proxy.close();
      project.cleanup();
    }
  });

  it('a registry that keeps answering 503: exit 3 within the retry budget, earlier dist/ intact; after it recovers, the image is pushed without a rebuild', async () => {
    let failing = false;
    const proxy = await registryProxy(services.registry, (req) =>
      failing && req.method === 'PUT' && req.url!.includes('/manifests/') ? { status: 503 } : undefined,
    );
    images.push(`${proxy.host}/${prefix}`);
    const push = `${proxy.host}/${prefix}/flaky`;
    const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('flaky', 'flaky', `flaky ${prefix}`) });
    try {
      expect((await runCli(['all', '--push', push], project.root)).code).toBe(0);
      const before = snapshotTree(join(project.root, 'dist'));
      writeFileSync(join(project.root, 'components/flaky/main.sh'), `echo "changed ${prefix}"\n`);
      failing = true;
      const t0 = Date.now();
      const down = await runCli(['all', '--push', push], project.root);
      expect(down.code, down.stderr).toBe(3);
      expect(down.stderr).toContain('FAILED (REGISTRY_UNREACHABLE)');
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(snapshotTree(join(project.root, 'dist'))['components/flaky/component.yaml']).toBe(before['components/flaky/component.yaml']);

      failing = false;
      const again = await runCli(['all', '--push', push, '--json'], project.root);
      expect(again.code).toBe(0);
      const events = again.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(events.find((e) => e.type === 'plan').entries[0].state).toBe('needs-push');
      expect(events.filter((e) => e.type === 'job-started').map((e) => e.kind)).toEqual(['lookup', 'push']);
    } finally {
      await proxy.close();
      project.cleanup();
    }
  });
});
