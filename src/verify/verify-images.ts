/**
 * `verify`: for every image dist/build.json pins by registry digest, whether the registry holds a
 * signature by the key over that digest, and a provenance signed by it whose input digest is the one
 * the component's current inputs give (hashed now, as a build would). One verdict per image; nothing
 * is built or written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { digestBuilds } from '../plan/planned-builds.js';
import type { BuiltComponent, Project } from '../project/model.js';
import { parseImageRef } from '../registry/image-ref.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { attestedStatements } from '../sign/cosign-attestations.js';
import { signedBy } from '../sign/cosign-signatures.js';
import { provenanceInputDigest } from '../sign/provenance.js';
import type { VerifyingKey } from '../sign/signing-key.js';

export interface ImageVerdict {
  component: string;
  image: string;
  ok: boolean;
  /** What was found, or what is wrong: unsigned, no provenance, built from other inputs. */
  detail: string;
}

interface RecordedImage {
  pinnedBy?: string;
  image?: string;
  digest?: string;
}

export async function verifyImages(project: Project, outDir: string, key: VerifyingKey, registry: RegistryApi): Promise<ImageVerdict[]> {
  const report = join(outDir, 'build.json');
  if (!existsSync(report))
    throw new UsageError(`${report} does not exist: there are no pinned images to verify`, { hint: 'Build and push first (all --push).' });
  const components = (JSON.parse(readFileSync(report, 'utf8')) as { components?: Record<string, RecordedImage> }).components ?? {};
  const built = project.components.filter((c): c is BuiltComponent => c.kind === 'built');
  const current = new Map<string, string>();
  await digestBuilds(
    project,
    built,
    { buildArgs: {}, componentBuildArgs: {} },
    () => undefined,
    (c, planned) => current.set(c.name, planned.inputs.inputDigest),
  );
  const verdicts: ImageVerdict[] = [];
  for (const [component, record] of Object.entries(components)) {
    if (record.pinnedBy !== 'registry-digest' || !record.image || !record.digest || !current.has(component)) continue;
    verdicts.push(await verdictOf(component, record.image, record.digest, current.get(component)!, key, registry));
  }
  return verdicts;
}

async function verdictOf(
  component: string,
  image: string,
  digest: string,
  inputDigest: string,
  key: VerifyingKey,
  registry: RegistryApi,
): Promise<ImageVerdict> {
  const ref = parseImageRef(image);
  const repo = { registry: ref.registry, path: ref.repository, name: image.split('@')[0]! };
  const verdict = (ok: boolean, detail: string) => ({ component, image, ok, detail });
  if (!(await signedBy(registry, repo, digest, key))) return verdict(false, `not signed by ${key.file}`);
  const inputs = (await attestedStatements(registry, repo, digest, key)).map((s) => provenanceInputDigest(s, digest)).filter((d) => d !== undefined);
  if (!inputs.length) return verdict(false, `signed, but no provenance signed by ${key.file}`);
  if (!inputs.includes(inputDigest)) return verdict(false, `built from other inputs: its provenance says ${inputs[0]}, the current inputs give ${inputDigest}`);
  return verdict(true, 'signed; its provenance names the current inputs');
}
