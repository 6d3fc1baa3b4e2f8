/** What the core asks of a registry (HTTP API v2): manifests by tag or digest, stored and copied. */

/** A manifest (or index) as the registry served it: its digest is the sha256 of `body`. */
export interface Manifest {
  digest: string;
  mediaType: string;
  body: Buffer;
}

export interface RegistryApi {
  /** The manifest digest of `repository:tag` (sha256 of the bytes served), or undefined when the tag does not exist. */
  manifestDigest(registry: string, repository: string, tag: string): Promise<string | undefined>;
  /** The manifest a tag or digest names, or undefined when there is none. */
  manifest(registry: string, repository: string, reference: string): Promise<Manifest | undefined>;
  /** Point `toTag` at the manifest `fromTag` has (no layers move). */
  copyTag(registry: string, repository: string, fromTag: string, toTag: string): Promise<void>;
  /** Store a manifest or index under `tag`. */
  putManifest(registry: string, repository: string, tag: string, mediaType: string, body: Buffer): Promise<void>;
  /** A blob by digest, or undefined when there is none. */
  blob(registry: string, repository: string, digest: string): Promise<Buffer | undefined>;
  /** Upload a blob unless the registry holds it; its digest. */
  pushBlob(registry: string, repository: string, body: Buffer): Promise<string>;
}
