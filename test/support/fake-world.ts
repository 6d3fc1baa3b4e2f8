/**
 * An engine and a registry kept in memory, for unit tests of the core: builds make images with the
 * labels they were given (reading the whole context), pushes copy them into the registry, and every
 * call is logged with a timestamp. Both are typed against the interfaces the core depends on; calls
 * a test does not expect throw. Methods are properties, so a test can wrap one and call the original.
 */

import type { BuildRequest, EngineCapabilities, EngineClient, EngineFacts, ImageInfo, PushRequest } from '../../src/engine/engine-client.js';
import { GO_MODE_TYPE } from '../../src/engine/session/file-sync.js';
import type { HelmetEvent } from '../../src/events.js';
import { CredentialSource } from '../../src/registry/credentials.js';
import type { Manifest, RegistryApi } from '../../src/registry/registry-api.js';
import type { EngineRegistryConfig } from '../../src/registry/registry-endpoints.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function unexpected(call: string): never {
  throw new Error(`the fake engine was not expected to ${call}`);
}

/** Read the whole context, as a daemon does: the tar body, or every FileSync folder and file. */
async function readContext(context: BuildRequest['context']): Promise<void> {
  if (!('kind' in context && context.kind === 'local-dirs')) {
    for await (const _ of context as AsyncIterable<unknown>);
    return;
  }
  for (const name of ['dockerfile', 'context']) {
    const dir = context.dir(name);
    for (const entry of dir?.list({ includePatterns: [], excludePatterns: [], followPaths: [] }) ?? []) {
      // Regular files only (no os.ModeType bit): the ones whose content a daemon asks for.
      if ((entry.mode & GO_MODE_TYPE) === 0) for (const _ of dir!.read(entry));
    }
  }
}

export class FakeEngine implements EngineClient {
  constructor(private readonly world: FakeWorld) {}

  async ping(): Promise<void> {}

  capabilities = async (): Promise<EngineCapabilities> => {
    return { buildkit: true, bridge: true };
  };

  build = async (req: BuildRequest): Promise<string> => {
    const w = this.world;
    w.log.push({ at: Date.now(), what: `build-start ${req.name}` });
    await readContext(req.context);
    await sleep(w.buildMs);
    const id = `sha256:${String(++w.seq).padStart(64, '0')}`;
    for (const t of req.tags) w.images.set(t, { id, labels: req.labels, repoDigests: [] });
    w.log.push({ at: Date.now(), what: `build-end ${req.name}` });
    return id;
  };

  push = async (req: PushRequest): Promise<string> => {
    const w = this.world;
    w.log.push({ at: Date.now(), what: `push-start ${req.repository}` });
    await sleep(w.pushMs);
    const image = w.images.get(`${req.repository}:${req.tag}`);
    if (!image) throw new Error(`the fake engine has no ${req.repository}:${req.tag} to push`);
    const digest = `sha256:${image.id.slice(-8).padStart(64, 'd')}`;
    w.registry.set(`${req.repository}:${req.tag}`, digest);
    w.log.push({ at: Date.now(), what: `push-end ${req.repository}` });
    return digest;
  };

  inspectImage = async (ref: string): Promise<ImageInfo | undefined> => {
    return this.world.images.get(ref);
  };

  imagesLabelled = async (label: string): Promise<Map<string, ImageInfo>> => {
    return new Map([...this.world.images].filter(([, image]) => label in image.labels));
  };

  tag = async (id: string, repository: string, tag: string): Promise<void> => {
    const image = [...this.world.images.values()].find((i) => i.id === id);
    if (!image) throw new Error(`the fake engine has no image ${id}`);
    this.world.images.set(`${repository}:${tag}`, image);
  };

  removeImage = async (ref: string): Promise<void> => {
    this.world.images.delete(ref);
  };

  pullImage = async (): Promise<void> => {
    unexpected('pull');
  };

  runContainer = async (): Promise<number> => {
    unexpected('run a container');
  };

  createVolume = async (): Promise<void> => {
    unexpected('create a volume');
  };

  removeVolume = async (): Promise<void> => {
    unexpected('remove a volume');
  };

  registryConfig = async (): Promise<EngineRegistryConfig> => {
    return { insecureCidrs: ['127.0.0.0/8'], secure: {} };
  };

  hasGpuSupport = async (): Promise<boolean> => {
    return false;
  };

  describe = async (): Promise<EngineFacts> => {
    return { version: 'fake', apiVersion: '1.41', storageDriver: 'memory', imageStore: 'classic', os: 'linux', platform: 'linux/amd64' };
  };
}

export class FakeRegistry implements RegistryApi {
  constructor(private readonly world: FakeWorld) {}

  manifestDigest = async (registry: string, path: string, tag: string): Promise<string | undefined> => {
    return this.world.registry.get(`${registry}/${path}:${tag}`);
  };

  /** Through `manifestDigest`, so that a test replacing it changes what lookups see. */
  manifest = async (registry: string, path: string, reference: string): Promise<Manifest | undefined> => {
    const digest = await this.manifestDigest(registry, path, reference);
    return digest ? { digest, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', body: Buffer.alloc(0) } : undefined;
  };

  putManifest = async (): Promise<void> => {
    unexpected('store a manifest');
  };

  blob = async (): Promise<Buffer | undefined> => unexpected('read a blob');

  pushBlob = async (): Promise<string> => unexpected('push a blob');

  copyTag = async (registry: string, path: string, from: string, to: string): Promise<void> => {
    const w = this.world;
    w.log.push({ at: Date.now(), what: `copy-tag ${path}:${to}` });
    const digest = w.registry.get(`${registry}/${path}:${from}`);
    if (!digest) throw new Error(`the fake registry has no ${registry}/${path}:${from}`);
    w.registry.set(`${registry}/${path}:${to}`, digest);
  };
}

export class FakeWorld {
  /** Local images by reference (`repo:tag`). */
  images = new Map<string, ImageInfo>();
  /** Registry tags (`registry/path:tag`) to digests. */
  registry = new Map<string, string>();
  log: { at: number; what: string }[] = [];
  buildMs = 20;
  pushMs = 5;
  seq = 0;

  readonly engine = new FakeEngine(this);
  readonly registryClient = new FakeRegistry(this);
  readonly credentials = new CredentialSource({ env: {}, dockerConfigDir: '/nonexistent' });

  deps(events: HelmetEvent[] = []) {
    return { engine: this.engine, registry: this.registryClient, credentials: this.credentials, onEvent: (e: HelmetEvent) => events.push(e) };
  }
}
