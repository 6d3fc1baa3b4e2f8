/** EngineClient over the Docker Engine API (dockerode), with every failure mapped to a typed error. */

import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { EngineUnreachableError, errorMessage, isHelmetError, PushFailedError } from '../errors.js';
import type { LocalDirs } from '../model/local-dirs.js';
import type { RegistryAuth } from '../registry/credentials.js';
import { splitReference } from '../registry/image-ref.js';
import type { EngineRegistryConfig } from '../registry/registry-endpoints.js';
import { retryPolicy, TransientFault, withRetries } from '../retry/retry.js';
import { readBuildkitBuild, readClassicBuild } from './build-streams.js';
import { runToEnd } from './containers.js';
import type { BuildRequest, EngineCapabilities, EngineClient, EngineFacts, ImageInfo, PushRequest, RunRequest } from './engine-client.js';
import { describeEngine, engineOptions, hostOptions } from './engine-connection.js';
import { engineError, RETRIED_CODES, registryTransferError, START_ENGINE_HINT, transportFailure } from './engine-errors.js';
import { readProgress } from './progress-stream.js';
import { PushProgressTracker } from './push-progress.js';
import type { Modem } from './session/build-session.js';

/** The environment variable that sets how often an engine call that changes nothing is tried again. */
const ENGINE_RETRIES = 'HELMET_ENGINE_RETRIES';

/** EngineClient over the Docker Engine API (dockerode). DOCKER_HOST & co. select the engine. */
export class DockerEngine implements EngineClient {
  private client?: Promise<Docker>;
  /** Read once, when the engine is set up: a bad HELMET_ENGINE_RETRIES is refused before anything runs. */
  private readonly retry = retryPolicy(ENGINE_RETRIES);

  /** The engine, as messages name it. */
  readonly where: string;

  /**
   * Without a client, dockerode is loaded on first use: a run that builds nothing never pays for it.
   * `host`: an engine of `engines:` (as DOCKER_HOST writes it); without it, DOCKER_HOST's.
   */
  constructor(
    docker?: Docker,
    private readonly host?: string,
  ) {
    if (docker) this.client = Promise.resolve(docker);
    this.where = describeEngine(host ? { ...process.env, DOCKER_HOST: host } : process.env);
  }

  private api(): Promise<Docker> {
    // engineOptions may refuse the environment (a missing TLS file): that is exit 2, not "unreachable".
    this.client ??= Promise.resolve()
      .then(() => (this.host ? hostOptions(this.host) : engineOptions()))
      .then(async (options) => new (await import('dockerode')).default(options));
    return this.client;
  }

  /**
   * Run an Engine API call; transport failures become EngineUnreachableError, error answers
   * EngineError. Calls that change nothing (or set the same state again) are tried again on a
   * dropped connection, within a small budget; builds and container runs are not.
   */
  private async call<T>(what: string, fn: (docker: Docker) => Promise<T>, idempotent = false): Promise<T> {
    const docker = await this.api();
    const attempt = async () => {
      try {
        return await fn(docker);
      } catch (e) {
        if (idempotent && RETRIED_CODES.has((e as { code?: string }).code ?? '')) throw new TransientFault(errorMessage(e), undefined, e as Error);
        throw e;
      }
    };
    try {
      return await withRetries(this.retry, attempt);
    } catch (e) {
      throw engineError(what, e, this.where);
    }
  }

  async ping(): Promise<void> {
    // A bad environment (a missing TLS file) is refused here, before any connection: exit 2.
    await this.api();
    try {
      await this.call('answer a ping', (d) => d.ping(), true);
    } catch (e) {
      // Whatever answered (or did not) at DOCKER_HOST, it is no engine this run can use.
      const cause = isHelmetError(e) && e.cause !== undefined ? e.cause : e;
      const transport = transportFailure(cause);
      throw new EngineUnreachableError(`cannot reach the Docker engine at ${this.where}: ${transport?.cause ?? errorMessage(cause)}`, {
        cause,
        hint: transport?.hint ?? START_ENGINE_HINT,
      });
    }
  }

  async build(req: BuildRequest): Promise<string> {
    const [first, ...rest] = req.tags;
    const buildkit = (req.builder ?? 'buildkit') === 'buildkit';
    const options = {
      t: first,
      dockerfile: req.dockerfile,
      buildargs: req.buildArgs,
      labels: req.labels,
      nocache: req.noCache ?? false,
      platform: req.platform,
      ...(req.target ? { target: req.target } : {}),
      ...(req.network ? { networkmode: req.network } : {}),
      // The Engine API takes cachefrom as one JSON array, not as repeated parameters.
      ...(req.cacheFrom?.length ? { cachefrom: JSON.stringify(req.cacheFrom) } : {}),
      pull: false,
    };
    const result = buildkit ? await this.buildkitBuild(req, options) : await this.classicBuild(req, options);
    for (const ref of rest) {
      const { name, tag } = splitReference(ref);
      await this.tag(result, name, tag ?? 'latest');
    }
    return result;
  }

  /** The classic builder: the tar body, and X-Registry-Config for the registries its FROM lines pull from. */
  private async classicBuild(req: BuildRequest, options: Record<string, unknown>): Promise<string> {
    if (isLocalDirs(req.context)) throw new Error('the classic builder reads its context from a tar body only');
    const context = req.context;
    const stream = await this.call(`build ${req.name}`, (d) =>
      d.buildImage(context, {
        ...options,
        ...(req.registryAuth && Object.keys(req.registryAuth).length ? { registryconfig: req.registryAuth } : {}),
        rm: true,
        forcerm: true,
        abortSignal: req.signal,
      } as Docker.ImageBuildOptions),
    );
    return readClassicBuild(
      req,
      stream as unknown as Readable,
      (id) => this.call(`remove container ${id}`, (d) => d.getContainer(id).remove({ force: true })),
      this.where,
    );
  }

  /**
   * BuildKit: a session first (credentials, secrets and SSH are asked for through it), then the
   * build naming it; the session is closed when the build ends, however it ends. dockerode's
   * buildImage is not used here: it opens a session of its own, without the health service.
   */
  private async buildkitBuild(req: BuildRequest, options: Record<string, unknown>): Promise<string> {
    const docker = await this.api();
    const { BuildSession } = await import('./session/build-session.js');
    const local = isLocalDirs(req.context) ? req.context : undefined;
    const sessionOptions = { ...(req.session ?? { sharedKey: req.name }), ...(local ? { localDirs: local } : {}) };
    const session = await this.call(`open a build session for ${req.name}`, () =>
      BuildSession.open(docker.modem as unknown as Modem, sessionOptions, req.name, req.signal),
    );
    try {
      const stream = await this.call(
        `build ${req.name}`,
        () =>
          new Promise<Readable>((resolve, reject) => {
            (docker.modem as unknown as Modem).dial(
              {
                path: '/build?',
                method: 'POST',
                // From the session, the daemon reads the context and the Dockerfile itself: no body.
                file: local ? Buffer.alloc(0) : req.context,
                options: { ...options, version: '2', session: session.id, ...(local ? { remote: 'client-session' } : {}) },
                isStream: true,
                statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
                ...(req.signal ? { abortSignal: req.signal } : {}),
              },
              (error, stream) => (error || !stream ? reject(error) : resolve(stream as unknown as Readable)),
            );
          }),
      );
      return await readBuildkitBuild(req, stream, this.where);
    } finally {
      session.close();
    }
  }

  async capabilities(): Promise<EngineCapabilities> {
    return this.call(
      'describe itself',
      async (d) => {
        const [version, bridge] = await Promise.all([
          d.version(),
          d
            .getNetwork('bridge')
            .inspect()
            .then(
              () => true,
              (e: { statusCode?: number }) => {
                if (e.statusCode === 404) return false;
                throw e;
              },
            ),
        ]);
        const [major = 0, minor = 0] = (version.ApiVersion ?? '0.0').split('.').map(Number);
        return { buildkit: version.Os === 'linux' && (major > 1 || (major === 1 && minor >= 39)), bridge };
      },
      true,
    );
  }

  async push(req: PushRequest): Promise<string> {
    const image = (await this.api()).getImage(`${req.repository}:${req.tag}`);
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await image.push({ tag: req.tag, authconfig: req.auth })) as NodeJS.ReadableStream;
    } catch (e) {
      throw engineError(`push ${req.repository}:${req.tag}`, e, this.where);
    }
    let digest: string | undefined;
    const layers = new PushProgressTracker();
    const { error } = await readProgress(stream as unknown as Readable, (m) => {
      if (typeof m.aux === 'object' && m.aux.Digest) digest = m.aux.Digest;
      // The containerd image store reports the digest only in its last status line, as the CLI prints it.
      else if (!digest && m.status) digest = /: digest: (sha256:[0-9a-f]{64}) size: \d+$/.exec(m.status)?.[1];
      const progress = layers.add(m);
      if (progress) req.onProgress?.(progress);
    });
    if (error !== undefined) throw registryTransferError('push', `${req.repository}:${req.tag}`, error);
    if (!digest) throw new PushFailedError(`push of ${req.repository}:${req.tag} reported no digest`);
    return digest;
  }

  async tag(image: string, repository: string, tag: string): Promise<void> {
    await this.call(`tag ${repository}:${tag}`, (d) => d.getImage(image).tag({ repo: repository, tag }), true);
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return this.call(
      `inspect ${ref}`,
      async (d) => {
        try {
          const info = await d.getImage(ref).inspect();
          return { id: info.Id, labels: info.Config?.Labels ?? {}, repoDigests: info.RepoDigests ?? [], layers: info.RootFS?.Layers ?? [] };
        } catch (e) {
          if ((e as { statusCode?: number }).statusCode === 404) return undefined;
          throw e;
        }
      },
      true,
    );
  }

  async imagesLabelled(label: string): Promise<Map<string, ImageInfo>> {
    return this.call(
      `list images labelled ${label}`,
      async (d) => {
        const byName = new Map<string, ImageInfo>();
        for (const image of await d.listImages({ filters: { label: [label] } })) {
          const info = { id: image.Id, labels: image.Labels ?? {}, repoDigests: image.RepoDigests ?? [] };
          for (const name of image.RepoTags ?? []) byName.set(name, info);
        }
        return byName;
      },
      true,
    );
  }

  async pullImage(ref: string, auth: RegistryAuth): Promise<void> {
    let stream: Readable;
    try {
      stream = (await (await this.api()).pull(ref, { authconfig: auth })) as unknown as Readable;
    } catch (e) {
      const message = (e as { json?: { message?: string } }).json?.message;
      if (message) throw registryTransferError('pull', ref, message);
      throw engineError(`pull ${ref}`, e, this.where);
    }
    const { error } = await readProgress(stream, () => {});
    if (error !== undefined) throw registryTransferError('pull', ref, error);
  }

  async runContainer(req: RunRequest): Promise<number> {
    return runToEnd(await this.api(), (options) => this.call(`create a container from ${req.image}`, (d) => d.createContainer(options)), req);
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.call(`create volume ${name}`, (d) => d.createVolume({ Name: name, Labels: labels }));
  }

  async removeVolume(name: string): Promise<void> {
    await this.call(`remove volume ${name}`, (d) => ignoreNotFound(d.getVolume(name).remove({ force: true })), true);
  }

  async hasGpuSupport(): Promise<boolean> {
    const info = (await this.call('info', (d) => d.info(), true)) as { Runtimes?: Record<string, unknown> };
    return Object.keys(info.Runtimes ?? {}).some((r) => r.includes('nvidia'));
  }

  async registryConfig(): Promise<EngineRegistryConfig> {
    const info = (await this.call('info', (d) => d.info(), true)) as {
      RegistryConfig?: { InsecureRegistryCIDRs?: string[]; IndexConfigs?: Record<string, { Secure?: boolean }> };
    };
    const config = info.RegistryConfig ?? {};
    return {
      insecureCidrs: config.InsecureRegistryCIDRs ?? [],
      secure: Object.fromEntries(Object.entries(config.IndexConfigs ?? {}).map(([name, index]) => [name, index.Secure !== false])),
    };
  }

  async describe(): Promise<EngineFacts> {
    return this.call(
      'describe itself',
      async (d) => {
        const [version, info] = await Promise.all([d.version(), d.info() as Promise<EngineInfo>]);
        // The containerd image store reports its snapshotter as the driver type.
        const containerd = (info.DriverStatus ?? []).some(([key, value]) => key === 'driver-type' && value.startsWith('io.containerd.snapshotter'));
        return {
          version: version.Version,
          apiVersion: version.ApiVersion,
          storageDriver: info.Driver ?? '?',
          imageStore: containerd ? 'containerd' : 'classic',
          os: info.OperatingSystem ?? '?',
          platform: `${version.Os}/${version.Arch}`,
        };
      },
      true,
    );
  }

  async removeImage(ref: string): Promise<void> {
    await this.call(`remove image ${ref}`, (d) => ignoreNotFound(d.getImage(ref).remove({ force: true, noprune: false })), true);
  }
}

function isLocalDirs(context: BuildRequest['context']): context is LocalDirs {
  return (context as Partial<LocalDirs>).kind === 'local-dirs';
}

interface EngineInfo {
  Driver?: string;
  DriverStatus?: [string, string][];
  OperatingSystem?: string;
}

/** A thing that is already gone is removed. */
async function ignoreNotFound(removal: Promise<unknown>): Promise<void> {
  try {
    await removal;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) throw e;
  }
}
