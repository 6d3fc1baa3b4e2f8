/**
 * Signatures as cosign stores them, so that `cosign verify` (and admission controllers that speak its
 * format) accept them: for an image `repo@sha256:<hex>`, the tag `repo:sha256-<hex>.sig` holds an OCI
 * manifest whose layers are simple-signing payloads naming the image, each with its signature in the
 * `dev.cosignproject.cosign/signature` annotation. A signature is added beside those already there,
 * and never twice: an image this key signed already is left as it is (a no-op run writes nothing).
 */
import type { ImageRepository } from '../registry/image-ref.js';
import type { RegistryApi } from '../registry/registry-api.js';
import type { SigningKey } from './signing-key.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** The time cosign writes into the config of a signature image: none. */
const NO_TIME = '0001-01-01T00:00:00Z';

interface Layer {
  mediaType: string;
  size: number;
  digest: string;
  annotations?: Record<string, string>;
}

/** The tag cosign keeps the signatures of `digest` under. */
function signatureTag(digest: string): string {
  return `${digest.replace(':', '-')}.sig`;
}

/** cosign's simple-signing payload for `repository@digest`, byte for byte as cosign writes it. */
function simpleSigningPayload(repository: string, digest: string): Buffer {
  const critical = { identity: { 'docker-reference': repository }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' };
  return Buffer.from(JSON.stringify({ critical, optional: null }));
}

/** Sign `repo@digest` with `key`, unless the key signed it already. */
export async function signImage(registry: RegistryApi, repo: ImageRepository, digest: string, key: SigningKey): Promise<'signed' | 'signed-before'> {
  const tag = signatureTag(digest);
  const existing = await registry.manifest(repo.registry, repo.path, tag);
  const layers: Layer[] = existing ? ((JSON.parse(existing.body.toString('utf8')) as { layers?: Layer[] }).layers ?? []) : [];
  for (const layer of layers) {
    const signature = layer.annotations?.[SIGNATURE_ANNOTATION];
    if (layer.mediaType !== SIMPLE_SIGNING || !signature) continue;
    const payload = await registry.blob(repo.registry, repo.path, layer.digest);
    if (payload && key.verifies(payload, signature) && namesDigest(payload, digest)) return 'signed-before';
  }
  const payload = simpleSigningPayload(repo.name, digest);
  const added: Layer = {
    mediaType: SIMPLE_SIGNING,
    size: payload.length,
    digest: await registry.pushBlob(repo.registry, repo.path, payload),
    annotations: { [SIGNATURE_ANNOTATION]: key.sign(payload) },
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
  return 'signed';
}

function namesDigest(payload: Buffer, digest: string): boolean {
  try {
    return (JSON.parse(payload.toString('utf8')) as { critical?: { image?: Record<string, string> } }).critical?.image?.['docker-manifest-digest'] === digest;
  } catch {
    return false;
  }
}
