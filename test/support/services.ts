import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';

/** The real engine and registries started by scripts/services.sh (see test/support/global-setup.ts). */
export const services = {
  get registry(): string {
    return required('HELMET_TEST_REGISTRY');
  },
  get authRegistry(): string {
    return required('HELMET_TEST_AUTH_REGISTRY');
  },
  get authUser(): string {
    return required('HELMET_TEST_AUTH_USER');
  },
  get authPassword(): string {
    return required('HELMET_TEST_AUTH_PASSWORD');
  },
};

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: start the services with scripts/services.sh up`);
  return v;
}

export const docker = new Docker();

export const BUSYBOX = 'helmet/busybox:latest';
export const PYTHON = 'helmet/python:3.11';

/** A unique lowercase name so parallel tests never share images or tags. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * Remove every local image reference (tag, or digest for an image pulled by digest) starting with
 * `prefix`. By reference, not by ID: the classic builder's cache can make a test image the parent of
 * another image, which cannot be deleted, but can always be untagged (it then goes with its child).
 */
export async function removeImages(prefix: string, engine: Docker = docker): Promise<void> {
  const images = await engine.listImages({ digests: true });
  for (const img of images) {
    const refs = [...(img.RepoTags ?? []), ...(img.RepoDigests ?? [])].filter((r) => r.startsWith(prefix) && !r.endsWith('<none>'));
    for (const ref of refs)
      await engine
        .getImage(ref)
        .remove({ force: true })
        .catch(() => undefined);
  }
}

/** Run an image and return its stdout+stderr (container removed afterwards). `volumes`: name (or host folder) -> mount path. */
export async function runImage(
  image: string,
  cmd?: string[],
  volumes: Record<string, string> = {},
  engine: Docker = docker,
): Promise<{ output: string; exitCode: number }> {
  try {
    return await runImageOnce(image, cmd, volumes, engine);
  } catch (e) {
    // runc's start-up race under load ("read init-p: connection reset by peer"): nothing ran; once more.
    if (!/OCI runtime create failed/.test(String((e as Error).message))) throw e;
    await new Promise((r) => setTimeout(r, 500));
    return runImageOnce(image, cmd, volumes, engine);
  }
}

async function runImageOnce(image: string, cmd: string[] | undefined, volumes: Record<string, string>, engine: Docker) {
  const container = await engine.createContainer({
    Image: image,
    Cmd: cmd,
    HostConfig: { NetworkMode: 'none', Binds: Object.entries(volumes).map(([name, path]) => `${name}:${path}`) },
  });
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const chunks: Buffer[] = [];
    const collector = { write: (c: Buffer) => chunks.push(Buffer.from(c)) } as unknown as NodeJS.WritableStream;
    engine.modem.demuxStream(stream, collector, collector);
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    await new Promise((r) => setTimeout(r, 50));
    return { output: Buffer.concat(chunks).toString('utf8'), exitCode: StatusCode };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** Ask the registry itself (not helmet-build's client) for a tag's digest. */
export async function registryDigest(
  registry: string,
  repository: string,
  tag: string,
  auth?: string,
  accept = 'application/vnd.docker.distribution.manifest.v2+json',
): Promise<string | null> {
  const res = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      Accept: accept,
      ...(auth ? { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {}),
    },
  });
  return res.ok ? res.headers.get('docker-content-digest') : null;
}
