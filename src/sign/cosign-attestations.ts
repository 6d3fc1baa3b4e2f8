/**
 * Attestations as `cosign attest` stores them, so that `cosign verify-attestation` accepts them: an
 * in-toto statement in a DSSE envelope signed with the key (over DSSE's pre-authentication encoding),
 * a layer of the image's `.att` manifest annotated with its predicate type. A statement this key made
 * already for the same image and input digest is not made again.
 */
import type { ImageRepository } from '../registry/image-ref.js';
import type { RegistryApi } from '../registry/registry-api.js';
import { addCosignLayer, cosignLayers, cosignTag } from './cosign-layers.js';
import type { SigningKey, VerifyingKey } from './signing-key.js';

const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
const IN_TOTO = 'application/vnd.in-toto+json';

/** DSSE's pre-authentication encoding: what a DSSE signature signs. */
function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `), payload]);
}

interface Envelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

/** Attest `statement` (whose predicate type is `predicateType`) for `repo@digest`, unless an equal one signed by `key` is there; `same` compares statements. */
export async function attestImage(
  registry: RegistryApi,
  repo: ImageRepository,
  digest: string,
  statement: { predicateType: string },
  key: SigningKey,
  same: (there: unknown) => boolean,
): Promise<'attested' | 'attested-before'> {
  const payload = Buffer.from(JSON.stringify(statement));
  const envelope: Envelope = {
    payloadType: IN_TOTO,
    payload: payload.toString('base64'),
    signatures: [{ keyid: '', sig: key.sign(preAuthEncoding(IN_TOTO, payload)) }],
  };
  const added = await addCosignLayer(registry, repo, cosignTag(digest, 'att'), {
    mediaType: DSSE_ENVELOPE,
    body: Buffer.from(JSON.stringify(envelope)),
    annotations: { 'dev.cosignproject.cosign/signature': '', predicateType: statement.predicateType },
    sameAs: (_layer, content) => {
      const there = signedStatement(content, key);
      return there !== undefined && same(there);
    },
  });
  return added ? 'attested' : 'attested-before';
}

/** The statements attested for `repo@digest` that `key` signed. */
export async function attestedStatements(registry: RegistryApi, repo: ImageRepository, digest: string, key: VerifyingKey): Promise<unknown[]> {
  const layers = await cosignLayers(registry, repo, cosignTag(digest, 'att'), DSSE_ENVELOPE);
  return layers.map(({ content }) => signedStatement(content, key)).filter((s) => s !== undefined);
}

/** The statement of an envelope, when `key` signed it. */
function signedStatement(content: Buffer, key: VerifyingKey): unknown {
  try {
    const envelope = JSON.parse(content.toString('utf8')) as Envelope;
    const payload = Buffer.from(envelope.payload, 'base64');
    const pae = preAuthEncoding(envelope.payloadType, payload);
    if (!envelope.signatures.some((s) => key.verifies(pae, s.sig))) return undefined;
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}
