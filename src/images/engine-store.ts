/** The image store of a run without --push: the engine's images, found by tag and input-digest label. */

import type { EngineClient, ImageInfo } from '../engine/engine-client.js';
import { EngineUnreachableError } from '../errors.js';
import { shortDockerHubName } from '../names/docker-hub.js';
import { INPUT_DIGEST_LABEL } from './image-labels.js';
import type { EngineImageStore } from './image-store.js';

export function engineImageStore(engine: EngineClient): EngineImageStore {
  const labelledImage = labelledImages(engine);
  return {
    kind: 'engine',
    where: 'the engine',
    repository: (image) => image,
    async lookup(image, tag, inputDigest) {
      const id = await labelledImage(`${image}:${tag}`, inputDigest);
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

/**
 * The engine's image for a `repository:tag` when its input-digest label matches. The engine's
 * labelled images are listed once, at the first question (the plan asks for every component at
 * once, before anything is built): one call instead of an inspect per component. An engine that
 * cannot be reached has none.
 */
export function labelledImages(engine: EngineClient): (ref: string, inputDigest: string) => Promise<string | undefined> {
  let listed: Promise<Map<string, ImageInfo> | undefined> | undefined;
  return async (ref, inputDigest) => {
    listed ??= engine.imagesLabelled(INPUT_DIGEST_LABEL).then(
      (byName) => new Map([...byName].map(([name, info]) => [shortDockerHubName(name), info])),
      (e: unknown) => {
        // A plan with --push needs no engine; a build of it will say the engine is unreachable.
        if (e instanceof EngineUnreachableError) return undefined;
        throw e;
      },
    );
    const info = (await listed)?.get(shortDockerHubName(ref));
    return info && info.labels[INPUT_DIGEST_LABEL] === inputDigest ? info.id : undefined;
  };
}
