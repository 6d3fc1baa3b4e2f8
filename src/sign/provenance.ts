/**
 * The SLSA provenance (v1) of an image built in a run, as an in-toto statement: the image digest as
 * its subject; what went in — the input digest, the Dockerfile and the build context by digest, the
 * base image by digest, the build args (credential-looking values as their hash, as everywhere), the
 * platform and target — as external parameters and resolved dependencies, enough to rebuild it; and
 * who built it and when: helmet-build's version, the builder and the engine's version, the build's
 * start and end, and the git revision of the source (marked when dirty).
 */
import type { InputRecord } from '../context/input-digest.js';

const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
const BUILD_TYPE = 'urn:helmet-build:build-type:engine-build:v1';

export interface ProvenanceInputs {
  /** `<registry>/<path>` of the image. */
  repository: string;
  digest: string;
  component: string;
  /** Relative to the project root. */
  dockerfile: string;
  context: string;
  inputs: InputRecord;
  platforms: string[];
  /** `repo@sha256:…` of the image it was built on, for a component with a base built here. */
  baseImage?: string;
  toolVersion: string;
  /** Git labels of the source (org.opencontainers.image.revision / .source). */
  source: Record<string, string>;
  /** How and when it was built: the builder, the engine's version, the job's start and end. */
  run?: { builder: string; engineVersion?: string; startedOn: string; finishedOn: string };
}

export function provenanceStatement(p: ProvenanceInputs): { predicateType: string; [field: string]: unknown } {
  const revision = p.source['org.opencontainers.image.revision'];
  const origin = p.source['org.opencontainers.image.source'];
  const sha256 = (digest: string) => ({ sha256: digest.replace(/^sha256:/, '') });
  const dependencies = [
    { uri: `file:${p.dockerfile}`, digest: sha256(p.inputs.dockerfile), annotations: { role: 'dockerfile' } },
    { uri: `file:${p.context}`, digest: sha256(p.inputs.inputDigest), annotations: { role: 'context and every other input (input digest)' } },
    ...(p.baseImage ? [{ uri: `docker:${p.baseImage}`, digest: sha256(p.baseImage.split('@')[1] ?? ''), annotations: { role: 'base image' } }] : []),
    ...(revision && origin
      ? [{ uri: `git+${origin}`, digest: { gitCommit: revision.replace(/-dirty$/, '') }, annotations: { dirty: revision.endsWith('-dirty') } }]
      : []),
  ];
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: p.repository, digest: sha256(p.digest) }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          component: p.component,
          inputDigest: p.inputs.inputDigest,
          dockerfile: p.dockerfile,
          context: p.context,
          buildArgs: p.inputs.args,
          ...(p.platforms.length ? { platforms: p.platforms } : {}),
          ...(p.inputs.target ? { target: p.inputs.target } : {}),
          ...(p.inputs.base ? { baseInputDigest: p.inputs.base } : {}),
        },
        ...(p.run ? { internalParameters: { builder: p.run.builder, ...(p.run.engineVersion ? { engine: `Docker ${p.run.engineVersion}` } : {}) } } : {}),
        resolvedDependencies: dependencies,
      },
      runDetails: {
        builder: {
          id: `urn:helmet-build:${p.toolVersion}`,
          version: { 'helmet-build': p.toolVersion, ...(p.run?.engineVersion ? { docker: p.run.engineVersion } : {}) },
        },
        ...(p.run ? { metadata: { startedOn: p.run.startedOn, finishedOn: p.run.finishedOn } } : {}),
      },
    },
  };
}

/** The input digest a provenance statement of `digest` names; undefined when the statement is no SLSA v1 provenance of that image. */
export function provenanceInputDigest(statement: unknown, digest: string): string | undefined {
  const s = statement as {
    predicateType?: string;
    subject?: { digest?: { sha256?: string } }[];
    predicate?: { buildDefinition?: { externalParameters?: { inputDigest?: string } } };
  };
  if (s?.predicateType !== SLSA_PROVENANCE_V1 || !s.subject?.some((x) => `sha256:${x.digest?.sha256}` === digest)) return undefined;
  return s.predicate?.buildDefinition?.externalParameters?.inputDigest;
}
