import { createHash } from 'node:crypto';
import type { BuildContext } from './build-context.js';

export interface DigestInputs {
  context: BuildContext;
  buildArgs: Record<string, string>;
  platform?: string;
  /** Digests (or image IDs) of the images this one starts from. */
  baseImages: string[];
}

/**
 * The input digest names everything that decides an image's content: the context's entries
 * (path, kind, executable bit, content), the Dockerfile, build args, platform and base images.
 * mtimes, owners, walk order and the checkout location are deliberately left out.
 */
export function computeInputDigest(inputs: DigestInputs): string {
  const h = createHash('sha256');
  const line = (s: string) => h.update(`${s}\n`);
  line('helmet-build input digest v1');
  line(`dockerfile ${createHash('sha256').update(inputs.context.dockerfileContent).digest('hex')}`);
  for (const [k, v] of Object.entries(inputs.buildArgs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    line(`arg ${JSON.stringify(k)}=${JSON.stringify(v)}`);
  }
  line(`platform ${inputs.platform ?? ''}`);
  for (const base of inputs.baseImages) line(`from ${base}`);
  for (const e of inputs.context.entries) {
    const exec = e.kind === 'file' && (e.mode & 0o111) !== 0 ? 'x' : '-';
    line(`${e.kind} ${exec} ${e.sha256 || '-'} ${JSON.stringify(e.path)}`);
  }
  return `sha256:${h.digest('hex')}`;
}

/** The content-addressed tag for an input digest: `in-` + 16 hex. */
export function inputTag(inputDigest: string): string {
  return `in-${inputDigest.replace(/^sha256:/, '').slice(0, 16)}`;
}
