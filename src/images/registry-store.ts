/**
 * The image store of a run with --push: `<registry>/<prefix>/<image>` repositories, looked up by
 * manifest (pinned to the digest of the bytes served), tagged by manifest copy. An image the engine
 * built for the current inputs but never pushed is "unpublished": it needs a push, not a build.
 */
import type { EngineClient } from '../engine/engine-client.js';
import { platformDigests } from '../registry/image-index.js';
import { imageRepository, type PushTarget } from '../registry/image-ref.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { labelledImages } from './engine-store.js';
import type { RegistryImageStore } from './image-store.js';

/** `engine`: where an image built but not pushed may be; without one (several engines), none is looked for. */
export function registryImageStore(push: string, target: PushTarget, registry: RegistryApi, engine: EngineClient | undefined): RegistryImageStore {
  const location = (image: string) => imageRepository(target, image);
  const labelledImage = engine ? labelledImages(engine) : async () => undefined;
  return {
    kind: 'registry',
    where: 'the registry',
    target,
    push,
    location,
    repository: (image) => location(image).name,
    async lookup(image, tag) {
      const repo = location(image);
      const found = await registry.manifest(repo.registry, repo.path, tag);
      if (!found) return undefined;
      const platforms = platformDigests(found);
      const several = platforms && Object.keys(platforms).length > 1;
      return { pinnedBy: 'registry-digest', image: `${repo.name}@${found.digest}`, digest: found.digest, ...(several ? { platformDigests: platforms } : {}) };
    },
    unpublished: (image, tag, inputDigest) => labelledImage(`${location(image).name}:${tag}`, inputDigest),
    async missingTags(image, pin, tags) {
      const repo = location(image);
      const current = await Promise.all(tags.map((t) => registry.manifestDigest(repo.registry, repo.path, t)));
      return tags.filter((_, i) => `${repo.name}@${current[i]}` !== pin.image);
    },
    async addTag(image, _pin, contentTag, tag) {
      const repo = location(image);
      await registry.copyTag(repo.registry, repo.path, contentTag, tag);
    },
  };
}
