/**
 * The OCI image index helmet-build pushes for an image built for several platforms: one descriptor
 * per platform, each the manifest that platform's push left in the registry. A push that left an
 * index of its own (an engine with the containerd image store adds attestation manifests) gives
 * its descriptor for that platform instead, so the index never nests.
 */
import { createHash } from 'node:crypto';
import { RegistryError } from '../errors.js';
import type { Manifest } from './registry-api.js';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const INDEX_TYPES = [OCI_INDEX, 'application/vnd.docker.distribution.manifest.list.v2+json'];

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
}

/** `linux/arm64/v8` as an index writes it. */
function platformObject(platform: string): NonNullable<Descriptor['platform']> {
  const [os, architecture, variant] = platform.split('/') as [string, string, string | undefined];
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/** The descriptor of one platform's image, from the manifest its push left under its digest. */
export function platformDescriptor(platform: string, manifest: Manifest): Descriptor {
  const wanted = platformObject(platform);
  if (!INDEX_TYPES.includes(manifest.mediaType)) {
    return { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.body.length, platform: wanted };
  }
  const index = JSON.parse(manifest.body.toString('utf8')) as { manifests?: Descriptor[] };
  const found = index.manifests?.find((d) => d.platform?.os === wanted.os && d.platform.architecture === wanted.architecture);
  if (!found) throw new RegistryError(`the image pushed for ${platform} (${manifest.digest}) holds no manifest for that platform`);
  return { mediaType: found.mediaType, digest: found.digest, size: found.size, platform: { ...wanted, ...found.platform } };
}

/** The index of `descriptors`, in the order given, as bytes with their digest. */
export function imageIndex(descriptors: Descriptor[]): Manifest {
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: descriptors }));
  return { mediaType: OCI_INDEX, body, digest: `sha256:${createHash('sha256').update(body).digest('hex')}` };
}

/** Platform → manifest digest of an index the registry served; undefined for a single image's manifest. */
export function platformDigests(manifest: Manifest): Record<string, string> | undefined {
  if (!INDEX_TYPES.includes(manifest.mediaType)) return undefined;
  const index = JSON.parse(manifest.body.toString('utf8')) as { manifests?: Descriptor[] };
  const out: Record<string, string> = {};
  for (const d of index.manifests ?? []) {
    if (!d.platform || d.platform.os === 'unknown') continue;
    out[[d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join('/')] = d.digest;
  }
  return out;
}
