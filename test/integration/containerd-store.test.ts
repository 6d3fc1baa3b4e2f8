/**
 * Docker 26.1 with the containerd image store (scripts/services.sh up --containerd): BuildKit builds
 * work there through the session's FileSync (the default) and push; its BuildKit fails every build
 * whose context is uploaded as a tar (moby/moby#47717, fixed in 27.5), so with
 * HELMET_CONTEXT_TRANSFER=tar such a build is refused before it starts — exit 3, naming the engine and
 * the ways out. The classic builder builds and pushes there too.
 */
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, ndjson, runCli, TINY_DOCKERFILE, tinyComponent, withEnv } from '../support/project.js';
import { services, uniqueName } from '../support/services.js';

const engine = process.env.HELMET_CONTAINERD_DOCKER_HOST;

async function onContainerdEngine(args: string[], root: string, env: Record<string, string> = {}) {
  if (!engine) throw new Error('HELMET_CONTAINERD_DOCKER_HOST is not set: start it with scripts/services.sh up --containerd');
  return withEnv({ DOCKER_HOST: engine, ...env }, () => runCli(args, root));
}

/** The digest the test registry gives a pushed tag. This store pushes an OCI index: ask for every manifest type. */
async function pushedDigest(repository: string, tag: string): Promise<string | null> {
  const res = await fetch(`http://${services.registry}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      Accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  return res.headers.get('docker-content-digest');
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

  it('a BuildKit build (the context through FileSync) builds and pushes there, pinned to the registry digest', async () => {
    const r = await onContainerdEngine(['all', '--builder', 'buildkit', '--push', `${services.registry}/${prefix}-bk`, '--json'], project.root);
    expect(r.code, r.stderr).toBe(0);
    const events = ndjson(r.stdout);
    expect(events.at(-1).ok).toBe(true);
    expect(events.some((e) => e.type === 'job-log' && /^context: context sent through FileSync/.test(e.line))).toBe(true);
    const tag = events.find((e) => e.type === 'plan').entries[0].contentTag;
    const pinned = events.find((e) => e.type === 'job-finished' && e.kind === 'push').summary as string;
    expect(pinned).toContain(`@${await pushedDigest(`${prefix}-bk/${image}`, tag)}`);
  });

  it('with HELMET_CONTEXT_TRANSFER=tar a BuildKit build is refused before it starts: exit 3, naming the engine version and what to do', async () => {
    const r = await onContainerdEngine(['all', '--builder', 'buildkit', '--no-cache', '--json'], project.root, { HELMET_CONTEXT_TRANSFER: 'tar' });
    expect(r.code, r.stderr).toBe(3);
    const events = ndjson(r.stdout);
    const failed = events.find((e) => e.type === 'job-finished' && e.outcome === 'failed');
    expect(failed.error).toMatchObject({ code: 'ENGINE_UNSUPPORTED', exitCode: 3 });
    expect(failed.error.message).toMatch(/Docker 26\.1\.\d+\S* with the containerd image store cannot build with BuildKit from an uploaded context/);
    expect(failed.error.hint).toMatch(/Unset HELMET_CONTEXT_TRANSFER/);
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
    const pinned = events.find((e) => e.type === 'job-finished' && e.kind === 'push').summary as string;
    expect(pinned).toContain(`@${await pushedDigest(`${prefix}/${image}`, tag)}`);
  });

  it('doctor names the image store', async () => {
    const r = await onContainerdEngine(['doctor'], project.root);
    expect(r.stdout + r.stderr).toMatch(/containerd image store/);
  });
});
