/** The settings of one build run, resolved once from the command's options; every phase reads this one object. */

import type { BuildSecret, SshAgent } from '../engine/engine-client.js';
import type { BuilderChoice, ContextTransfer } from '../engine/engine-setup.js';
import type { ImageStore } from '../images/image-store.js';
import type { ImageRepository } from '../registry/image-ref.js';
import type { ProvenanceInputs } from '../sign/provenance.js';

export interface RunSettings {
  /** Where images live: the registry of --push, or the engine. */
  store: ImageStore;
  /** User tags (`--tag`) the selection should carry. */
  tags: string[];
  /** Build args for every component, overriding component.yaml. */
  buildArgs: Record<string, string>;
  /** Build args per component name, overriding the global ones. */
  componentBuildArgs: Record<string, Record<string, string>>;
  /** Selected built components need a build whatever exists. */
  noCache: boolean;
  /** Builds at once, and pushes at once (separately). */
  concurrency: number;
  builder: BuilderChoice;
  /** `--platform`: the platforms of every component built, overriding their own. */
  platforms?: string[];
  /** Without --push: the engine's own platform, built alone for a component of several. */
  localPlatform?: string;
  /** Network of RUN steps for components without `build.network`; unset: decided by the engine. */
  buildNetwork?: string;
  /** How BuildKit builds get their context (HELMET_CONTEXT_TRANSFER). @default filesync */
  contextTransfer?: ContextTransfer;
  /** Build secrets (`--secret`) BuildKit builds may mount; values are read only when a build asks. */
  secrets?: BuildSecret[];
  /** SSH agents (`--ssh`) BuildKit builds may use. */
  ssh?: SshAgent[];
  /** With a signing key (--sign-key): signs, in the publish phase, every built image the run pins, and attests the provenance of those it built. */
  signer?: Signer;
  /** Image labels describing the source (git); asked for only when something is built. */
  sourceLabels?: () => Promise<Record<string, string>>;
  signal?: AbortSignal;
}

/** What a run with a signing key does to the images it pins. */
export interface Signer {
  /** The signature of `repository@digest`, unless this key made it already. */
  sign(repository: ImageRepository, digest: string): Promise<'signed' | 'signed-before'>;
  /** The provenance of an image built in this run, unless this key attested the same already. */
  attest(repository: ImageRepository, facts: BuildFacts): Promise<'attested' | 'attested-before'>;
}

/** What the provenance of one image says, beside what the signer knows itself (its version, the source). */
export type BuildFacts = Omit<ProvenanceInputs, 'toolVersion' | 'source' | 'repository'>;
