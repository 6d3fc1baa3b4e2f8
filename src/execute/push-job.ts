/**
 * The push job of one component: the content tag pushed by the engine (tried again when the
 * transfer broke off), the digest it reports checked against the registry's own answer, and the
 * layer cache tag moved to the new image.
 */
import type { EngineClient } from '../engine/engine-client.js';
import { DigestMismatchError, isHelmetError, PushFailedError, RegistryUnreachableError } from '../errors.js';
import type { EventListener } from '../events.js';
import type { JobContext } from '../jobs/dag.js';
import type { BuiltIdentity } from '../model/plan-entry.js';
import type { CredentialSource } from '../registry/credentials.js';
import { engineAuth } from '../registry/credentials.js';
import type { ImageRepository } from '../registry/image-ref.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { REGISTRY_RETRIES } from '../registry/registry-client.js';
import { retryPolicy, TransientFault, withRetries } from '../retry/retry.js';
import { CACHE_TAG } from './build-job.js';

/** What a push job made. */
export interface Pushed {
  digest: string;
  image: string;
  ms: number;
}

export interface PushDeps {
  engine: EngineClient;
  registry: RegistryApi;
  credentials: CredentialSource;
  onEvent: EventListener;
}

/** Push the content tag, and check the digest the engine reports against the registry's own answer. */
export async function pushImage(entry: BuiltIdentity, repo: ImageRepository, deps: PushDeps, ctx: JobContext): Promise<Pushed> {
  const t0 = Date.now();
  const auth = engineAuth(repo.registry, await deps.credentials.get(repo.registry));
  let reported = 0;
  const pushOnce = () =>
    deps.engine
      .push({
        repository: repo.name,
        tag: entry.contentTag,
        auth,
        onProgress: (p) => {
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
  const digest = await withRetries(retryPolicy(REGISTRY_RETRIES), pushOnce, (fault, attempt) =>
    ctx.progress(`push attempt ${attempt} failed (${fault.message}); trying again`),
  );
  const confirmed = await deps.registry.manifestDigest(repo.registry, repo.path, entry.contentTag);
  if (confirmed !== digest) {
    throw new DigestMismatchError(`the engine pushed ${repo.name}:${entry.contentTag} as ${digest}, but the registry reports ${confirmed ?? 'no such tag'}`, {
      hint: 'Another writer may be pushing the same tag; re-run, and check the registry.',
    });
  }
  return { digest, image: `${repo.name}@${digest}`, ms: Date.now() - t0 };
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
