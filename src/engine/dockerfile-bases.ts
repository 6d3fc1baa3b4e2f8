/**
 * The registries a Dockerfile's FROM lines pull from: the classic builder needs credentials for them
 * up front (X-Registry-Config).
 */
import { baseImages } from '../dockerfile/from-lines.js';
import { parseImageRef } from '../registry/image-ref.js';

/** The registries those images are pulled from (docker.io for Docker Hub names). */
export function baseRegistries(dockerfile: string, buildArgs: Record<string, string>): string[] {
  const registries: string[] = [];
  for (const image of baseImages(dockerfile, buildArgs)) {
    let registry: string;
    try {
      registry = parseImageRef(image).registry;
    } catch {
      // Not a reference the engine could pull either: it reports that itself.
      continue;
    }
    if (!registries.includes(registry)) registries.push(registry);
  }
  return registries;
}
