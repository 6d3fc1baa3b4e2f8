import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import { BuildFailedError, EngineUnreachableError, PushFailedError, errorMessage } from '../errors.js';
import type { BuildRequest, EngineClient, ImageInfo, PushRequest } from './engine-client.js';
import { readProgress } from './progress-stream.js';

const LOG_TAIL_LINES = 20;

/** EngineClient over the Docker Engine API (dockerode). DOCKER_HOST & co. select the engine. */
export class DockerEngine implements EngineClient {
  constructor(private readonly docker: Docker = new Docker()) {}

  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (e) {
      throw new EngineUnreachableError(`cannot reach the Docker engine at ${describeHost()}: ${errorMessage(e)}`, {
        cause: e,
        hint: 'Start an engine (scripts/services.sh up) or point DOCKER_HOST at one.',
      });
    }
  }

  async build(req: BuildRequest): Promise<string> {
    const [first, ...rest] = req.tags;
    const stream = await this.docker.buildImage(req.context, {
      t: first,
      dockerfile: req.dockerfile,
      buildargs: req.buildArgs,
      labels: req.labels,
      nocache: req.noCache ?? false,
      platform: req.platform,
      rm: true,
      forcerm: true,
      pull: false,
    });
    const tail: string[] = [];
    let imageId: string | undefined;
    const { error } = await readProgress(stream as unknown as Readable, (m) => {
      if (m.aux?.ID) imageId = m.aux.ID;
      const text = m.stream ?? m.status;
      if (!text) return;
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > LOG_TAIL_LINES) tail.shift();
        req.onLog?.(line);
      }
    });
    if (error !== undefined) throw new BuildFailedError(req.name, error, tail);
    if (!imageId) throw new BuildFailedError(req.name, 'the engine finished without reporting an image ID', tail);
    for (const ref of rest) {
      const { repository, tag } = splitTag(ref);
      await this.tag(imageId, repository, tag);
    }
    return imageId;
  }

  async push(req: PushRequest): Promise<string> {
    const image = this.docker.getImage(`${req.repository}:${req.tag}`);
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
    await this.docker.getImage(image).tag({ repo: repository, tag });
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return { id: info.Id, labels: info.Config?.Labels ?? {}, repoDigests: info.RepoDigests ?? [] };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }

  async removeImage(ref: string): Promise<void> {
    try {
      await this.docker.getImage(ref).remove({ force: true, noprune: false });
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
