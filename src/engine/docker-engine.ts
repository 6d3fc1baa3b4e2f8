import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { BuildFailedError, EngineUnreachableError, PushFailedError, errorMessage } from '../errors.js';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import type { BuildRequest, EngineClient, ImageInfo, PushRequest, RegistryAuth, RunRequest } from './engine-client.js';
import { readProgress } from './progress-stream.js';

const LOG_TAIL_LINES = 20;

/** EngineClient over the Docker Engine API (dockerode). DOCKER_HOST & co. select the engine. */
export class DockerEngine implements EngineClient {
  private client?: Promise<Docker>;

  /** Without a client, dockerode is loaded on first use: a run that builds nothing never pays for it. */
  constructor(docker?: Docker) {
    if (docker) this.client = Promise.resolve(docker);
  }

  private api(): Promise<Docker> {
    this.client ??= import('dockerode').then((m) => new m.default());
    return this.client;
  }

  async ping(): Promise<void> {
    try {
      await (await this.api()).ping();
    } catch (e) {
      throw new EngineUnreachableError(`cannot reach the Docker engine at ${describeHost()}: ${errorMessage(e)}`, {
        cause: e,
        hint: 'Start an engine (scripts/services.sh up) or point DOCKER_HOST at one.',
      });
    }
  }

  async build(req: BuildRequest): Promise<string> {
    const [first, ...rest] = req.tags;
    const stream = await (await this.api()).buildImage(req.context, {
      t: first,
      dockerfile: req.dockerfile,
      buildargs: req.buildArgs,
      labels: req.labels,
      nocache: req.noCache ?? false,
      platform: req.platform,
      rm: true,
      forcerm: true,
      pull: false,
      abortSignal: req.signal,
    } as Docker.ImageBuildOptions);
    const tail: string[] = [];
    let imageId: string | undefined;
    let stepContainer: string | undefined;
    let progress;
    try {
      progress = await readProgress(stream as unknown as Readable, (m) => {
        if (m.aux?.ID) imageId = m.aux.ID;
        const text = m.stream ?? m.status;
        if (!text) return;
        for (const line of text.split('\n')) {
          if (!line.trim()) continue;
          stepContainer = /^ ---> Running in ([0-9a-f]{12,64})$/.exec(line)?.[1] ?? stepContainer;
          tail.push(line);
          if (tail.length > LOG_TAIL_LINES) tail.shift();
          req.onLog?.(line);
        }
      });
    } catch (e) {
      // A cancelled build: the engine removes its RUN container in its own time; do it now, so none outlives us.
      if (stepContainer) await (await this.api()).getContainer(stepContainer).remove({ force: true }).catch(() => undefined);
      throw e;
    }
    const { error } = progress;
    if (error !== undefined) throw new BuildFailedError(req.name, error, tail);
    if (!imageId) throw new BuildFailedError(req.name, 'the engine finished without reporting an image ID', tail);
    for (const ref of rest) {
      const { repository, tag } = splitTag(ref);
      await this.tag(imageId, repository, tag);
    }
    return imageId;
  }

  async push(req: PushRequest): Promise<string> {
    const image = (await this.api()).getImage(`${req.repository}:${req.tag}`);
    let stream;
    try {
      stream = (await image.push({ tag: req.tag, authconfig: req.auth })) as NodeJS.ReadableStream;
    } catch (e) {
      throw new PushFailedError(`push of ${req.repository}:${req.tag} failed: ${errorMessage(e)}`, { cause: e });
    }
    let digest: string | undefined;
    const { error } = await readProgress(stream as unknown as Readable, (m) => {
      if (m.aux?.Digest) digest = m.aux.Digest;
      if (m.status) req.onProgress?.(m.id ? `${m.id}: ${m.status}` : m.status);
    });
    if (error !== undefined) {
      throw new PushFailedError(`push of ${req.repository}:${req.tag} failed: ${error}`, {
        hint: /unauthorized|authentication|basic auth/i.test(error)
          ? 'Log in (docker login) or set HELMET_REGISTRY_USER / HELMET_REGISTRY_PASSWORD.'
          : undefined,
      });
    }
    if (!digest) throw new PushFailedError(`push of ${req.repository}:${req.tag} reported no digest`);
    return digest;
  }

  async tag(image: string, repository: string, tag: string): Promise<void> {
    await (await this.api()).getImage(image).tag({ repo: repository, tag });
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    try {
      const info = await (await this.api()).getImage(ref).inspect();
      return { id: info.Id, labels: info.Config?.Labels ?? {}, repoDigests: info.RepoDigests ?? [] };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }

  async pullImage(ref: string, auth: RegistryAuth): Promise<void> {
    let stream;
    try {
      stream = (await (await this.api()).pull(ref, { authconfig: auth })) as unknown as Readable;
    } catch (e) {
      throw new PushFailedError(`pull of ${ref} failed: ${errorMessage(e)}`, { cause: e });
    }
    const { error } = await readProgress(stream, () => {});
    if (error !== undefined) throw new PushFailedError(`pull of ${ref} failed: ${error}`);
  }

  async runContainer(req: RunRequest): Promise<number> {
    const container = await (await this.api()).createContainer({
      Image: req.image,
      Entrypoint: req.entrypoint,
      Cmd: req.cmd,
      Env: Object.entries(req.env ?? {}).map(([k, v]) => `${k}=${v}`),
      Labels: req.labels,
      HostConfig: {
        NetworkMode: req.network,
        Mounts: Object.entries(req.volumes ?? {}).map(([name, target]) => ({ Type: 'volume' as const, Source: name, Target: target })),
        DeviceRequests: req.gpus ? [{ Driver: 'nvidia', Count: req.gpus, Capabilities: [['gpu']] }] : undefined,
      },
    });
    const onAbort = () => void container.kill().catch(() => undefined);
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const lines = (name: 'stdout' | 'stderr') => {
        const pass = new PassThrough();
        const done = new Promise<void>((resolve) => {
          const rl = createInterface({ input: pass, crlfDelay: Infinity });
          rl.on('line', (line) => req.onLog?.(line, name));
          rl.on('close', resolve);
        });
        return { pass, done };
      };
      const out = lines('stdout');
      const err = lines('stderr');
      (await this.api()).modem.demuxStream(stream, out.pass, err.pass);
      stream.on('end', () => {
        out.pass.end();
        err.pass.end();
      });
      req.signal?.addEventListener('abort', onAbort, { once: true });
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      // Let the last log lines through before reporting the exit.
      await Promise.race([Promise.all([out.done, err.done]), new Promise((r) => setTimeout(r, 2000))]);
      return StatusCode;
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await (await this.api()).createVolume({ Name: name, Labels: labels });
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await (await this.api()).getVolume(name).remove({ force: true });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }

  async hasGpuSupport(): Promise<boolean> {
    const info = (await (await this.api()).info()) as { Runtimes?: Record<string, unknown> };
    return Object.keys(info.Runtimes ?? {}).some((r) => r.includes('nvidia'));
  }

  async describe(): Promise<{ version: string; apiVersion: string; storageDriver: string; os: string }> {
    const docker = await this.api();
    const [version, info] = await Promise.all([docker.version(), docker.info() as Promise<{ Driver?: string; OperatingSystem?: string }>]);
    return { version: version.Version, apiVersion: version.ApiVersion, storageDriver: info.Driver ?? '?', os: info.OperatingSystem ?? '?' };
  }

  async removeImage(ref: string): Promise<void> {
    try {
      await (await this.api()).getImage(ref).remove({ force: true, noprune: false });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }
}

/** Split `repo[:port]/name:tag` into repository and tag (default `latest`). */
export function splitTag(ref: string): { repository: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repository: ref, tag: 'latest' };
}

function describeHost(): string {
  return process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}
