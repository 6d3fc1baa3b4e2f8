/** The image store of a run without --push: the engine's images, found by tag and input-digest label. */
import type { EngineClient } from '../engine/engine-client.js';
import { EngineUnreachableError } from '../errors.js';
import { INPUT_DIGEST_LABEL } from './image-labels.js';
import type { EngineImageStore } from './image-store.js';

export function engineImageStore(engine: EngineClient): EngineImageStore {
  return {
    kind: 'engine',
    where: 'the engine',
    repository: (image) => image,
    async lookup(image, tag, inputDigest) {
      const id = await labelledImage(engine, `${image}:${tag}`, inputDigest);
      return id ? { pinnedBy: 'local-image-id', image: id } : undefined;
    },
    // The engine is the store: what it built, it holds.
    unpublished: async () => undefined,
    async missingTags(image, pin, tags) {
      const current = await Promise.all(tags.map((t) => engine.inspectImage(`${image}:${t}`)));
      return tags.filter((_, i) => current[i]?.id !== pin.image);
    },
    async addTag(image, pin, _contentTag, tag) {
      await engine.tag(pin.image, image, tag);
    },
  };
}

/** The engine's image for `ref` when its input-digest label matches; an engine that cannot be reached has none. */
export async function labelledImage(engine: EngineClient, ref: string, inputDigest: string): Promise<string | undefined> {
  try {
    const info = await engine.inspectImage(ref);
    return info && info.labels[INPUT_DIGEST_LABEL] === inputDigest ? info.id : undefined;
  } catch (e) {
    // A plan with --push needs no engine; a build of it will say the engine is unreachable.
    if (e instanceof EngineUnreachableError) return undefined;
    throw e;
  }
}
