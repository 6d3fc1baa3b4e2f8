/**
 * Where the images of a run live: the registry (with --push) or the engine (without). The store is
 * chosen once per run; the plan, execute and publish phases ask it, and never ask which it is but
 * where the question is which: only a registry store receives pushes.
 */
import type { BuiltPin } from '../model/pin.js';
import type { ImageRepository, PushTarget } from '../registry/image-ref.js';

interface StoreOperations {
  /** Where images are looked up, for messages: "the registry", "the engine". */
  readonly where: string;
  /** The repository a component's image goes to: `<registry>/<prefix>/<image>`, or the image name itself locally. */
  repository(image: string): string;
  /** The image `repository(image):tag`, when it exists and was built from `inputDigest`: pinned by digest in a registry, by ID in the engine. */
  lookup(image: string, tag: string, inputDigest: string): Promise<BuiltPin | undefined>;
  /** An image this engine built from `inputDigest` that the store does not hold yet: its ID. */
  unpublished(image: string, tag: string, inputDigest: string): Promise<string | undefined>;
  /** Those of `tags` that do not point at `pin` yet. */
  missingTags(image: string, pin: BuiltPin, tags: string[]): Promise<string[]>;
  /** Point `tag` at the image known by `contentTag` and `pin`. */
  addTag(image: string, pin: BuiltPin, contentTag: string, tag: string): Promise<void>;
}

/** Images stay in the engine, pinned by image ID. */
export interface EngineImageStore extends StoreOperations {
  readonly kind: 'engine';
}

/** Images are pushed to a registry, pinned by the digest it serves. */
export interface RegistryImageStore extends StoreOperations {
  readonly kind: 'registry';
  readonly target: PushTarget;
  /** `--push` as given, for messages. */
  readonly push: string;
  /** The registry, path and full name of a component's image. */
  location(image: string): ImageRepository;
}

export type ImageStore = EngineImageStore | RegistryImageStore;
