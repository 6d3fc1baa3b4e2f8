/** How an image reference is pinned: the one definition every plan entry and result shares. */

/** Pinned to the manifest digest the registry serves: `repo@sha256:…`. */
export interface RegistryPin {
  pinnedBy: 'registry-digest';
  image: string;
  digest: string;
  /** An image index of several platforms: the manifest digest of each (`linux/arm64` → `sha256:…`). */
  platformDigests?: Record<string, string>;
}

/** Pinned to the engine's image ID (a local build, no --push). */
export interface LocalPin {
  pinnedBy: 'local-image-id';
  image: string;
}

/** A prebuilt image whose tag the registry could not resolve: used as written. */
export interface TagPin {
  pinnedBy: 'tag';
  image: string;
}

export type Pin = RegistryPin | LocalPin | TagPin;

/** The pins an image helmet-build builds can have. */
export type BuiltPin = RegistryPin | LocalPin;

/** Only the pin of something that carries one (a plan entry, a result): its image, and its digest when it has one. */
export function pinOf<P extends Pin>(pinned: P): Pin {
  return pinned.pinnedBy === 'registry-digest'
    ? { pinnedBy: pinned.pinnedBy, image: pinned.image, digest: pinned.digest, ...(pinned.platformDigests ? { platformDigests: pinned.platformDigests } : {}) }
    : { pinnedBy: pinned.pinnedBy, image: pinned.image };
}
