/**
 * How cosign keeps what it adds to an image `repo@sha256:<hex>`: an OCI manifest under a tag derived
 * from the digest (`sha256-<hex>.sig` for signatures, `.att` for attestations), one layer per
 * signature or attestation, with an empty config listing them. A layer is added beside those already
 * there (another key's, cosign's own), and not at all when one of them already says the same.
 */
import type { ImageRepository } from '../registry/image-ref.js';
import type { RegistryApi } from '../registry/registry-api.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** The time cosign writes into the config of a signature image: none. */
const NO_TIME = '0001-01-01T00:00:00Z';

export interface CosignLayer {
  mediaType: string;
  size: number;
  digest: string;
  annotations?: Record<string, string>;
}

export interface NewLayer {
  mediaType: string;
  body: Buffer;
  annotations: Record<string, string>;
  /** Whether a layer already there (with its content) says what this one would: then nothing is written. */
  sameAs: (layer: CosignLayer, content: Buffer) => boolean;
}

/** The tag cosign keeps the signatures (`sig`) or attestations (`att`) of `digest` under. */
export function cosignTag(digest: string, kind: 'sig' | 'att'): string {
  return `${digest.replace(':', '-')}.${kind}`;
}

/** The layers under `tag` of one media type, each with its content (a layer whose blob is gone is left out). */
export async function cosignLayers(
  registry: RegistryApi,
  repo: ImageRepository,
  tag: string,
  mediaType: string,
): Promise<{ layer: CosignLayer; content: Buffer }[]> {
  const { layers } = await readLayers(registry, repo, tag);
  return withContent(
    registry,
    repo,
    layers.filter((l) => l.mediaType === mediaType),
  );
}

async function readLayers(registry: RegistryApi, repo: ImageRepository, tag: string): Promise<{ layers: CosignLayer[] }> {
  const existing = await registry.manifest(repo.registry, repo.path, tag);
  return { layers: existing ? ((JSON.parse(existing.body.toString('utf8')) as { layers?: CosignLayer[] }).layers ?? []) : [] };
}

async function withContent(registry: RegistryApi, repo: ImageRepository, layers: CosignLayer[]): Promise<{ layer: CosignLayer; content: Buffer }[]> {
  const out: { layer: CosignLayer; content: Buffer }[] = [];
  for (const layer of layers) {
    const content = await registry.blob(repo.registry, repo.path, layer.digest);
    if (content) out.push({ layer, content });
  }
  return out;
}

/** Add `layer` to the manifest under `tag`, unless a layer there is the same; whether it was added. */
export async function addCosignLayer(registry: RegistryApi, repo: ImageRepository, tag: string, layer: NewLayer): Promise<boolean> {
  const { layers } = await readLayers(registry, repo, tag);
  for (const there of await withContent(
    registry,
    repo,
    layers.filter((l) => l.mediaType === layer.mediaType),
  )) {
    if (layer.sameAs(there.layer, there.content)) return false;
  }
  const added: CosignLayer = {
    mediaType: layer.mediaType,
    size: layer.body.length,
    digest: await registry.pushBlob(repo.registry, repo.path, layer.body),
    annotations: layer.annotations,
  };
  const all = [...layers, added];
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: NO_TIME,
      history: all.map(() => ({ created: NO_TIME })),
      os: '',
      rootfs: { type: 'layers', diff_ids: all.map((l) => l.digest) },
      config: {},
    }),
  );
  const configDigest = await registry.pushBlob(repo.registry, repo.path, config);
  const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, size: config.length, digest: configDigest }, layers: all };
  await registry.putManifest(repo.registry, repo.path, tag, OCI_MANIFEST, Buffer.from(JSON.stringify(manifest)));
  return true;
}
