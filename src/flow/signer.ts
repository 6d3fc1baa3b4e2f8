/**
 * The signer of a run that publishes: the key of --sign-key, else of helmet-build.yaml's `sign: {key}`,
 * opened before anything is built (a wrong password is exit 2 then, not after the builds), signing
 * images and attesting their provenance through the run's registry client. Signatures live in a
 * registry: signing needs --push.
 */
import { UsageError } from '../errors.js';
import type { BuildFacts, RunSettings, Signer } from '../plan/run-settings.js';
import type { Project } from '../project/model.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { attestImage } from '../sign/cosign-attestations.js';
import { signImage } from '../sign/cosign-signatures.js';
import { provenanceInputDigest, provenanceStatement } from '../sign/provenance.js';
import { keyNeedsPassword, loadSigningKey } from '../sign/signing-key.js';
import { packageVersion } from '../version.js';

export async function signerOf(
  project: Project,
  options: { signKey?: string; signPassword?: () => Promise<string | undefined> },
  settings: RunSettings,
  deps: { registry: RegistryApi },
): Promise<Signer | undefined> {
  const file = options.signKey ?? project.signKey;
  if (!file) return undefined;
  if (settings.store.kind !== 'registry') {
    // helmet-build.yaml's key signs what goes to a registry; a local build (a `run` on a laptop) has nothing to sign.
    if (!options.signKey) return undefined;
    throw new UsageError(`signing with ${file} needs --push REGISTRY: cosign signatures are stored beside the images in a registry`);
  }
  // The password is asked for only when the key is encrypted (it may come from standard input).
  const password = keyNeedsPassword(file) ? await options.signPassword?.() : undefined;
  const key = loadSigningKey(file, password);
  let source: Promise<Record<string, string>> | undefined;
  const toolVersion = packageVersion();
  return {
    sign: (repository, digest) => signImage(deps.registry, repository, digest, key),
    async attest(repository, facts) {
      source ??= settings.sourceLabels?.() ?? Promise.resolve({});
      const statement = provenanceStatement({ ...facts, repository: repository.name, toolVersion, source: await source });
      return attestImage(deps.registry, repository, facts.digest, statement, key, (there) => sameBuild(there, facts));
    },
  };
}

/** A provenance statement of the same image and the same inputs: attesting again would say nothing new. */
function sameBuild(there: unknown, facts: BuildFacts): boolean {
  return provenanceInputDigest(there, facts.digest) === facts.inputs.inputDigest;
}
