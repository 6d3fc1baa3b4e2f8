/**
 * Signatures as cosign stores them, so that `cosign verify` (and admission controllers that speak its
 * format) accept them: the simple-signing payload naming `repo@sha256:<hex>`, its signature in the
 * `dev.cosignproject.cosign/signature` annotation, a layer of the image's `.sig` manifest. An image
 * this key signed already is left as it is (a no-op run writes nothing).
 */
import type { ImageRepository } from '../registry/image-ref.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { addCosignLayer, cosignLayers, cosignTag } from './cosign-layers.js';
import type { SigningKey, VerifyingKey } from './signing-key.js';

const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';

/** cosign's simple-signing payload for `repository@digest`, byte for byte as cosign writes it. */
function simpleSigningPayload(repository: string, digest: string): Buffer {
  const critical = { identity: { 'docker-reference': repository }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' };
  return Buffer.from(JSON.stringify({ critical, optional: null }));
}

/** Sign `repo@digest` with `key`, unless the key signed it already. */
export async function signImage(registry: RegistryApi, repo: ImageRepository, digest: string, key: SigningKey): Promise<'signed' | 'signed-before'> {
  const payload = simpleSigningPayload(repo.name, digest);
  const added = await addCosignLayer(registry, repo, cosignTag(digest, 'sig'), {
    mediaType: SIMPLE_SIGNING,
    body: payload,
    annotations: { [SIGNATURE_ANNOTATION]: key.sign(payload) },
    sameAs: (layer, content) => {
      const signature = layer.annotations?.[SIGNATURE_ANNOTATION];
      return !!signature && key.verifies(content, signature) && namesDigest(content, digest);
    },
  });
  return added ? 'signed' : 'signed-before';
}

/** Whether the registry holds a signature by `key` over `repo@digest`. */
export async function signedBy(registry: RegistryApi, repo: ImageRepository, digest: string, key: VerifyingKey): Promise<boolean> {
  for (const { layer, content } of await cosignLayers(registry, repo, cosignTag(digest, 'sig'), SIMPLE_SIGNING)) {
    const signature = layer.annotations?.[SIGNATURE_ANNOTATION];
    if (signature && key.verifies(content, signature) && namesDigest(content, digest)) return true;
  }
  return false;
}

function namesDigest(payload: Buffer, digest: string): boolean {
  try {
    return (JSON.parse(payload.toString('utf8')) as { critical?: { image?: Record<string, string> } }).critical?.image?.['docker-manifest-digest'] === digest;
  } catch {
    return false;
  }
}
