/**
 * The push job of one component: the content tag pushed by the engine (tried again when the
 * transfer broke off), the digest it reports checked against the registry's own answer, and the
 * layer cache tag moved to the new image. A build of several platforms pushes each platform's tag
 * so, then stores their OCI image index under the content tag.
 */
import type { EngineClient } from '../engine/engine-client.js';
import { DigestMismatchError, isHelmetError, PushFailedError, RegistryUnreachableError } from '../errors.js';
import type { EventListener } from '../events.js';
import type { JobContext } from '../jobs/dag.js';
import type { BuiltIdentity } from '../model/plan-entry.js';
import type { CredentialSource } from '../registry/credentials.js';
import { engineAuth } from '../registry/credentials.js';
import { imageIndex, platformDescriptor } from '../registry/image-index.js';
import type { ImageRepository } from '../registry/image-ref.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { REGISTRY_RETRIES } from '../registry/registry-client.js';
import { retryPolicy, TransientFault, withRetries } from '../retry/retry.js';
import { type Built, CACHE_TAG } from './build-job.js';
import type { LayerUploads } from './layer-uploads.js';

/** What a push job made. */
export interface Pushed {
  digest: string;
  image: string;
  /** A build of several platforms: the manifest digest of each, joined in the index `digest` names. */
  platformDigests?: Record<string, string>;
  ms: number;
}

export interface PushDeps {
  /** The engine that holds an image: the one that built it (`host`), or for an image an earlier run built, the run's first. */
  engineAt: (host: string | undefined) => EngineClient | Promise<EngineClient>;
  /** The run's pushes of shared layers, in turn. */
  layerUploads: LayerUploads;
  registry: RegistryApi;
  credentials: CredentialSource;
  onEvent: EventListener;
}

/** Push what the build made under the content tag: its image, or each platform's image and then their index. */
export async function pushImage(entry: BuiltIdentity, repo: ImageRepository, deps: PushDeps, ctx: JobContext, built?: Built): Promise<Pushed> {
  const t0 = Date.now();
  if (!built?.platformImages) {
    const digest = await pushTag(entry.contentTag, built?.host, repo, deps, ctx);
    return { digest, image: `${repo.name}@${digest}`, ms: Date.now() - t0 };
  }
  const descriptors: ReturnType<typeof platformDescriptor>[] = [];
  const platformDigests: Record<string, string> = {};
  for (const image of built.platformImages) {
    const { platform, tag } = image;
    if ('imageId' in image) ctx.progress(`pushing ${platform}`);
    const digest = 'imageId' in image ? await pushTag(tag, image.host, repo, deps, ctx) : image.digest;
    const manifest = await deps.registry.manifest(repo.registry, repo.path, digest);
    if (!manifest) throw new DigestMismatchError(`the engine pushed ${repo.name}:${tag} as ${digest}, but the registry has no such manifest`);
    const descriptor = platformDescriptor(platform, manifest);
    descriptors.push(descriptor);
    platformDigests[platform] = descriptor.digest;
  }
  const index = imageIndex(descriptors);
  await deps.registry.putManifest(repo.registry, repo.path, entry.contentTag, index.mediaType, index.body);
  await confirmDigest(repo, entry.contentTag, index.digest, 'helmet-build stored the index', deps);
  return { digest: index.digest, image: `${repo.name}@${index.digest}`, platformDigests, ms: Date.now() - t0 };
}

/** Push `repo:tag` from the engine (tried again when the transfer broke off); the digest, as the registry confirms it. */
async function pushTag(tag: string, host: string | undefined, repo: ImageRepository, deps: PushDeps, ctx: JobContext): Promise<string> {
  const auth = engineAuth(repo.registry, await deps.credentials.get(repo.registry));
  const engine = await deps.engineAt(host);
  const layers = (await engine.inspectImage(`${repo.name}:${tag}`))?.layers ?? [];
  let reported = 0;
  const pushOnce = (arrived: (shortId: string) => void) =>
    engine
      .push({
        repository: repo.name,
        tag,
        auth,
        onProgress: (p) => {
          if (p.finishedLayer) arrived(p.finishedLayer.id);
          // The engine reports every few KB; a finished layer always, the running count five times a second.
          if (!p.finishedLayer && Date.now() - reported < 200) return;
          reported = Date.now();
          ctx.report({ type: 'push-progress', ...p });
        },
      })
      .catch((e: unknown) => {
        // A push is idempotent: what reached the registry is skipped next time.
        if (e instanceof RegistryUnreachableError || (e instanceof PushFailedError && e.retryable)) throw new TransientFault(e.message, undefined, e);
        throw e;
      });
  const digest = await deps.layerUploads.push(repo.registry, layers, (arrived) =>
    withRetries(
      retryPolicy(REGISTRY_RETRIES),
      () => pushOnce(arrived),
      (fault, attempt) => ctx.progress(`push attempt ${attempt} failed (${fault.message}); trying again`),
    ),
  );
  await confirmDigest(repo, tag, digest, 'the engine pushed it', deps);
  return digest;
}

/** The registry must serve `tag` as `digest`; another writer of the same tag is an error. */
async function confirmDigest(repo: ImageRepository, tag: string, digest: string, how: string, deps: PushDeps): Promise<void> {
  const confirmed = await deps.registry.manifestDigest(repo.registry, repo.path, tag);
  if (confirmed !== digest) {
    throw new DigestMismatchError(`${how} as ${repo.name}:${tag} (${digest}), but the registry reports ${confirmed ?? 'no such tag'}`, {
      hint: 'Another writer may be pushing the same tag; re-run, and check the registry.',
    });
  }
}

/** Point the cache tag at the image just pushed, so the next build on a fresh engine can reuse its layers. */
export async function moveCacheTag(entry: BuiltIdentity, repo: ImageRepository, deps: PushDeps): Promise<void> {
  try {
    await deps.registry.copyTag(repo.registry, repo.path, entry.contentTag, CACHE_TAG);
  } catch (e) {
    if (!isHelmetError(e)) throw e;
    deps.onEvent({ type: 'warning', subject: entry.component, message: `the layer cache tag ${repo.name}:${CACHE_TAG} was not moved: ${e.message}` });
  }
}
