/**
 * Docker 26.1 with the containerd image store (scripts/services.sh up --containerd): its BuildKit
 * fails every build whose context is uploaded as a tar (moby/moby#47717, fixed in 27.5), so such a
 * build is refused before it starts — exit 3, naming the engine and the ways out — while the classic
 * builder builds and pushes there.
 */
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, ndjson, runCli, TINY_DOCKERFILE, tinyComponent, withEnv } from '../support/project.js';
import { services, uniqueName } from '../support/services.js';

const engine = process.env.HELMET_CONTAINERD_DOCKER_HOST;

async function onContainerdEngine(args: string[], root: string) {
  if (!engine) throw new Error('HELMET_CONTAINERD_DOCKER_HOST is not set: start it with scripts/services.sh up --containerd');
  return withEnv({ DOCKER_HOST: engine }, () => runCli(args, root));
}

describe('an engine with the containerd image store (Docker 26.1)', () => {
  const image = uniqueName('itest-cstore');
  const prefix = uniqueName('cstore');
  const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('hello', image, 'hello') });
  afterAll(async () => {
    project.cleanup();
    if (!engine) return;
    // The images this test made live in that engine.
    const cstore = new Docker({ socketPath: engine.replace(/^unix:\/\//, '') });
    for (const img of await cstore.listImages()) {
      if ((img.RepoTags ?? []).some((t) => t.includes(image)))
        await cstore
          .getImage(img.Id)
          .remove({ force: true })
          .catch(() => undefined);
    }
  });

  it('a BuildKit build is refused before it starts: exit 3, naming the engine version and what to do', async () => {
    const r = await onContainerdEngine(['all', '--json'], project.root);
    expect(r.code, r.stderr).toBe(3);
    const events = ndjson(r.stdout);
    const failed = events.find((e) => e.type === 'job-finished' && e.outcome === 'failed');
    expect(failed.error).toMatchObject({ code: 'ENGINE_UNSUPPORTED', exitCode: 3 });
    expect(failed.error.message).toMatch(/Docker 26\.1\.\d+\S* with the containerd image store cannot build with BuildKit from an uploaded context/);
    expect(failed.error.hint).toMatch(/--builder classic/);
    // Refused before any build reached the engine: no step ever started.
    expect(events.some((e) => e.type === 'build-step')).toBe(false);
  });

  it('the classic builder builds and pushes there, pinned to the registry digest', async () => {
    const r = await onContainerdEngine(['all', '--builder', 'classic', '--push', `${services.registry}/${prefix}`, '--json'], project.root);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(result.ok).toBe(true);
    const events = ndjson(r.stdout);
    const plan = events.find((e) => e.type === 'plan');
    const tag = plan.entries[0].contentTag;
    // This store pushes an OCI index: ask for every manifest type.
    const res = await fetch(`http://${services.registry}/v2/${prefix}/${image}/manifests/${tag}`, {
      method: 'HEAD',
      headers: {
        Accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    const pinned = events.find((e) => e.type === 'job-finished' && e.kind === 'push').summary as string;
    expect(pinned).toContain(`@${res.headers.get('docker-content-digest')}`);
  });

  it('doctor names the image store', async () => {
    const r = await onContainerdEngine(['doctor'], project.root);
    expect(r.stdout + r.stderr).toMatch(/containerd image store/);
  });
});
