/** What the core asks of a registry (HTTP API v2): the digest of a tag, and a tag copied by manifest. */
export interface RegistryApi {
  /** The manifest digest of `repository:tag` (sha256 of the bytes served), or undefined when the tag does not exist. */
  manifestDigest(registry: string, repository: string, tag: string): Promise<string | undefined>;
  /** Point `toTag` at the manifest `fromTag` has (no layers move). */
  copyTag(registry: string, repository: string, fromTag: string, toTag: string): Promise<void>;
}
