/** EngineClient over the Docker Engine API (dockerode), with every failure mapped to a typed error. */

import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import {
  BuildFailedError,
  EngineError,
  EngineUnreachableError,
  errorMessage,
  type HelmetError,
  isHelmetError,
  PullFailedError,
  PushFailedError,
  RegistryAuthError,
  RegistryForbiddenError,
  RegistryUnreachableError,
} from '../errors.js';
import { splitReference } from '../registry/image-ref.js';
import { retryPolicy, TransientFault, withRetries } from '../registry/retry.js';
import type { BuildRequest, EngineCapabilities, EngineClient, ImageInfo, PushRequest, RegistryAuth, RunRequest } from './engine-client.js';
import { describeEngine, engineOptions } from './engine-connection.js';
import { readProgress } from './progress-stream.js';
import { PushProgressTracker } from './push-progress.js';

const LOG_TAIL_LINES = 20;

/** EngineClient over the Docker Engine API (dockerode). DOCKER_HOST & co. select the engine. */
export class DockerEngine implements EngineClient {
  private client?: Promise<Docker>;

  /** Without a client, dockerode is loaded on first use: a run that builds nothing never pays for it. */
  constructor(docker?: Docker) {
    if (docker) this.client = Promise.resolve(docker);
  }

  private api(): Promise<Docker> {
    // engineOptions may refuse the environment (a missing TLS file): that is exit 2, not "unreachable".
    this.client ??= Promise.resolve(engineOptions()).then(async (options) => new (await import('dockerode')).default(options));
    return this.client;
  }

  /**
   * Run an Engine API call; transport failures become EngineUnreachableError, error answers
   * EngineError. Calls that change nothing (or set the same state again) are tried again on a
   * dropped connection, within a small budget; builds and container runs are not.
   */
  private async call<T>(what: string, fn: (docker: Docker) => Promise<T>, idempotent = false): Promise<T> {
    const docker = await this.api();
    const once = async () => {
      try {
        return await fn(docker);
      } catch (e) {
        if (idempotent && RETRIED_CODES.has((e as { code?: string }).code ?? '')) throw new TransientFault(errorMessage(e), undefined, e as Error);
        throw e;
      }
    };
    try {
      return await withRetries(retryPolicy(), once);
    } catch (e) {
      throw engineError(what, e instanceof TransientFault ? e.final : e);
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
      throw new EngineUnreachableError(`cannot reach the Docker engine at ${describeEngine()}: ${transport?.cause ?? errorMessage(cause)}`, {
        cause,
        hint: transport?.hint ?? START_ENGINE_HINT,
      });
    }
  }

  async build(req: BuildRequest): Promise<string> {
    const [first, ...rest] = req.tags;
    const buildkit = (req.builder ?? 'buildkit') === 'buildkit';
    const stream = await this.call(`build ${req.name}`, (d) =>
      d.buildImage(req.context, {
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
        ...(req.registryAuth && Object.keys(req.registryAuth).length ? { registryconfig: req.registryAuth } : {}),
        ...(buildkit ? { version: '2' } : { rm: true, forcerm: true }),
        pull: false,
        abortSignal: req.signal,
      } as Docker.ImageBuildOptions),
    );
    const result = buildkit
      ? await this.readBuildkitBuild(req, stream as unknown as Readable)
      : await this.readClassicBuild(req, stream as unknown as Readable);
    for (const ref of rest) {
      const { name, tag } = splitReference(ref);
      await this.tag(result, name, tag ?? 'latest');
    }
    return result;
  }

  /** BuildKit: progress is a protobuf trace; a failure names the failing step and what it printed. */
  private async readBuildkitBuild(req: BuildRequest, stream: Readable): Promise<string> {
    const { BuildkitProgress, decodeStatus } = await import('./buildkit-status.js');
    const progress = new BuildkitProgress(
      (step) => req.onStep?.(step),
      (line) => req.onLog?.(line),
    );
    let imageId: string | undefined;
    let read: Awaited<ReturnType<typeof readProgress>>;
    try {
      read = await readProgress(stream, (m) => {
        if (m.id === 'moby.buildkit.trace' && typeof m.aux === 'string') progress.add(decodeStatus(m.aux));
        else if (typeof m.aux === 'object' && m.aux?.ID) imageId = m.aux.ID;
      });
    } catch (e) {
      throw engineError(`build ${req.name}`, e);
    }
    if (read.error !== undefined) {
      const failed = progress.failure(read.error);
      if (failed) throw new BuildFailedError(req.name, `step "${failed.step}" failed: ${failed.error}`, failed.lines);
      throw new BuildFailedError(req.name, read.error, []);
    }
    if (!imageId) throw new BuildFailedError(req.name, 'the engine finished without reporting an image ID', []);
    return imageId;
  }

  /** The classic builder: progress is text; "Step n/m" lines mark the steps. */
  private async readClassicBuild(req: BuildRequest, stream: Readable): Promise<string> {
    const tail: string[] = [];
    let imageId: string | undefined;
    let stepContainer: string | undefined;
    let step: string | undefined;
    let read: Awaited<ReturnType<typeof readProgress>>;
    try {
      read = await readProgress(stream, (m) => {
        if (typeof m.aux === 'object' && m.aux?.ID) imageId = m.aux.ID;
        const text = m.stream ?? m.status;
        if (!text) return;
        for (const line of text.split('\n')) {
          if (!line.trim()) continue;
          stepContainer = /^ ---> Running in ([0-9a-f]{12,64})$/.exec(line)?.[1] ?? stepContainer;
          if (/^Step \d+\/\d+ :/.test(line)) {
            if (step) req.onStep?.({ name: step, state: 'done' });
            step = line;
            req.onStep?.({ name: line, state: 'started' });
          }
          tail.push(line);
          if (tail.length > LOG_TAIL_LINES) tail.shift();
          req.onLog?.(line);
        }
      });
    } catch (e) {
      // A cancelled build: the engine removes its RUN container in its own time; do it now, so none outlives us.
      if (stepContainer)
        await (await this.api())
          .getContainer(stepContainer)
          .remove({ force: true })
          .catch(() => undefined);
      throw engineError(`build ${req.name}`, e);
    }
    if (read.error !== undefined) {
      if (step) req.onStep?.({ name: step, state: 'failed', error: read.error });
      throw new BuildFailedError(req.name, step ? `step "${step}" failed: ${read.error}` : read.error, tail);
    }
    if (step) req.onStep?.({ name: step, state: 'done' });
    if (!imageId) throw new BuildFailedError(req.name, 'the engine finished without reporting an image ID', tail);
    return imageId;
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
      throw engineError(`push ${req.repository}:${req.tag}`, e);
    }
    let digest: string | undefined;
    const layers = new PushProgressTracker();
    const { error } = await readProgress(stream as unknown as Readable, (m) => {
      if (typeof m.aux === 'object' && m.aux.Digest) digest = m.aux.Digest;
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
          return { id: info.Id, labels: info.Config?.Labels ?? {}, repoDigests: info.RepoDigests ?? [] };
        } catch (e) {
          if ((e as { statusCode?: number }).statusCode === 404) return undefined;
          throw e;
        }
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
      throw engineError(`pull ${ref}`, e);
    }
    const { error } = await readProgress(stream, () => {});
    if (error !== undefined) throw registryTransferError('pull', ref, error);
  }

  async runContainer(req: RunRequest): Promise<number> {
    const container = await this.call(`create a container from ${req.image}`, (d) =>
      d.createContainer({
        Image: req.image,
        Entrypoint: req.entrypoint,
        Cmd: req.cmd,
        Env: Object.entries(req.env ?? {}).map(([k, v]) => `${k}=${v}`),
        Labels: req.labels,
        HostConfig: {
          NetworkMode: req.network,
          Mounts: [
            ...Object.entries(req.volumes ?? {}).map(([name, target]) => ({ Type: 'volume' as const, Source: name, Target: target })),
            ...Object.entries(req.binds ?? {}).map(([host, target]) => ({ Type: 'bind' as const, Source: host, Target: target })),
          ],
          DeviceRequests: req.gpus ? [{ Driver: 'nvidia', Count: req.gpus, Capabilities: [['gpu']] }] : undefined,
        },
      }),
    );
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
    await this.call(`create volume ${name}`, (d) => d.createVolume({ Name: name, Labels: labels }));
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await (await this.api()).getVolume(name).remove({ force: true });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }

  async hasGpuSupport(): Promise<boolean> {
    const info = (await this.call('info', (d) => d.info(), true)) as { Runtimes?: Record<string, unknown> };
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

/** Dropped or refused connections: worth another try for a call that changes nothing. */
const RETRIED_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT']);

const START_ENGINE_HINT = 'Start an engine (scripts/services.sh up) or point DOCKER_HOST at one.';

/** Transport failures: no engine answers at DOCKER_HOST. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EACCES']);
/** The engine's certificate is not one ca.pem vouches for. */
const UNTRUSTED_CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const TLS_FILES_HINT = 'Check DOCKER_CERT_PATH: ca.pem must be the CA that signed the engine, cert.pem/key.pem a client certificate it accepts.';

/** What went wrong on the way to the engine, when the failure is one of transport (exit 3); undefined otherwise. */
function transportFailure(e: unknown): { cause: string; hint: string } | undefined {
  const code = (e as { code?: string }).code ?? '';
  const message = errorMessage(e);
  if (UNTRUSTED_CERT_CODES.has(code)) return { cause: `the engine's TLS certificate is not trusted (${code})`, hint: TLS_FILES_HINT };
  if (/HTTP request to an HTTPS server/i.test(message)) {
    return {
      cause: 'the engine expects TLS, but DOCKER_TLS_VERIFY is not set',
      hint: 'Set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the folder with ca.pem, cert.pem and key.pem.',
    };
  }
  if (/wrong version number|packet length too long/i.test(message)) {
    return {
      cause: 'the engine does not speak TLS at this address',
      hint: 'Unset DOCKER_TLS_VERIFY for a plain engine, or check the port (TLS engines usually listen on 2376).',
    };
  }
  if (/alert (unknown ca|bad certificate|certificate required|handshake failure)|certificate required/i.test(message)) {
    return { cause: 'the engine refused the client certificate (cert.pem is not signed by a CA it trusts)', hint: TLS_FILES_HINT };
  }
  if (code === 'EPROTO' || code.startsWith('ERR_SSL_')) return { cause: `TLS failed: ${message}`, hint: TLS_FILES_HINT };
  if (UNREACHABLE_CODES.has(code)) return { cause: code, hint: START_ENGINE_HINT };
  return undefined;
}

/** An Engine API failure as a typed error: unreachable (exit 3) or an error answer (exit 1). */
export function engineError(what: string, e: unknown): HelmetError {
  if (isHelmetError(e)) return e;
  const transport = transportFailure(e);
  if (transport)
    return new EngineUnreachableError(`lost the Docker engine at ${describeEngine()} (${what}): ${transport.cause}`, { cause: e, hint: transport.hint });
  const status = (e as { statusCode?: number }).statusCode;
  const message = (e as { json?: { message?: string } }).json?.message ?? errorMessage(e);
  return new EngineError(`the Docker engine could not ${what}${status ? ` (HTTP ${status})` : ''}: ${message}`, { cause: e });
}

/**
 * A push or pull failure reported by the engine (it talks to the registry, and says what went wrong
 * only in words): unreachable, credentials, permissions, or the transfer itself.
 */
export function registryTransferError(kind: 'push' | 'pull', ref: string, message: string): HelmetError {
  const text = `${kind} of ${ref} failed: ${message}`;
  if (/connection refused|no such host|i\/o timeout|dial tcp|network is unreachable|TLS handshake timeout/i.test(message)) {
    return new RegistryUnreachableError(text, { hint: 'Check the registry address and that the registry is running.' });
  }
  if (/unexpected HTTP status: (5\d\d|429)|\b50[234] (Bad Gateway|Service Unavailable|Gateway Timeout)/i.test(message)) {
    return new RegistryUnreachableError(text, { hint: 'The registry is not serving (an error status of its own); try again later.' });
  }
  if (/unauthorized|authentication required|no basic auth credentials/i.test(message)) {
    return new RegistryAuthError(text, { hint: 'Log in (docker login) or set HELMET_REGISTRY_USER / HELMET_REGISTRY_PASSWORD.' });
  }
  if (/denied|forbidden/i.test(message)) {
    return new RegistryForbiddenError(text, { hint: 'The credentials lack permission for this repository: check the account or robot permissions.' });
  }
  return kind === 'push' ? new PushFailedError(text) : new PullFailedError(text);
}
