/**
 * The signer of a run that publishes: the key of --sign-key, else of helmet-build.yaml's `sign: {key}`,
 * opened before anything is built (a wrong password is exit 2 then, not after the builds), and
 * signing through the run's registry client. Signatures live in a registry: signing needs --push.
 */
import { UsageError } from '../errors.js';
import type { RunSettings } from '../plan/run-settings.js';
import type { Project } from '../project/model.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { signImage } from '../sign/cosign-signatures.js';
import { loadSigningKey } from '../sign/signing-key.js';

export function signerOf(
  project: Project,
  options: { signKey?: string; signPassword?: string },
  settings: RunSettings,
  deps: { registry: RegistryApi },
): RunSettings['sign'] {
  const file = options.signKey ?? project.signKey;
  if (!file) return undefined;
  if (settings.store.kind !== 'registry') {
    throw new UsageError(`signing with ${file} needs --push REGISTRY: cosign signatures are stored beside the images in a registry`);
  }
  const key = loadSigningKey(file, options.signPassword);
  return (repository, digest) => signImage(deps.registry, repository, digest, key);
}
