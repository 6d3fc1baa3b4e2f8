import { parseFamiliarName } from '@swimlane/docker-reference';
import { UsageError } from '../errors.js';

/** A parsed image reference: `registry/repository[:tag][@digest]`. */
export interface ImageRef {
  /** Registry host[:port], e.g. `localhost:5000` or `docker.io`. */
  registry: string;
  /** Repository path inside the registry, e.g. `helmet/train` or `library/busybox`. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Parse a reference the way the docker CLI reads it (familiar names allowed). */
export function parseImageRef(ref: string): ImageRef {
  let parsed: ReturnType<typeof parseFamiliarName>;
  try {
    parsed = parseFamiliarName(ref);
  } catch (e) {
    throw new UsageError(`"${ref}" is not a valid image reference`, { cause: e });
  }
  return { registry: parsed.domain!, repository: parsed.repository!, tag: parsed.tag, digest: parsed.digest };
}

/**
 * A reference split as written: `name` is everything before `:tag` / `@digest` (no default
 * registry or `library/` added), as the Engine API's tag and push calls take it.
 */
export function splitReference(ref: string): { name: string; tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const rest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { name: rest, digest };
}

/** Where `--push <repo>` sends images: a registry and a path prefix inside it. */
export interface PushTarget {
  /** Registry host[:port]. */
  registry: string;
  /** Path under the registry, '' for none. */
  prefix: string;
}

/** Where a component's image lives: its repository path in the registry, and the full name. */
export interface ImageRepository {
  registry: string;
  /** Path inside the registry, e.g. `helmet/train`. */
  path: string;
  /** `registry/path`, as the engine names it. */
  name: string;
}

export function imageRepository(target: PushTarget, image: string): ImageRepository {
  const path = target.prefix ? `${target.prefix}/${image}` : image;
  return { registry: target.registry, path, name: `${target.registry}/${path}` };
}

/**
 * Parse the value of `--push <repo>`: a registry with an optional path prefix, e.g.
 * `localhost:5000/helmet` or `ghcr.io/acme`. Images are pushed as `<repo>/<image>`.
 */
export function parsePushTarget(target: string): PushTarget {
  const usage = () => new UsageError(`--push takes a registry and optional path, e.g. localhost:5000/helmet or ghcr.io/acme; got "${target}"`);
  let ref: ImageRef;
  try {
    ref = parseImageRef(`${target.replace(/\/+$/, '')}/x`);
  } catch {
    throw usage();
  }
  if (ref.tag || ref.digest) throw usage();
  const prefix = ref.repository.replace(/\/?x$/, '');
  return { registry: ref.registry, prefix };
}
