/**
 * What a TLS client of helmet-build trusts and presents, as one secure context per trust set.
 *
 * A context made from a `ca` list parses every PEM certificate in it (the ~140 system roots take
 * 25 ms or more), and Node makes a new one for every socket an agent opens when the agent is given
 * `ca`: so each trust set gets one context, made when the first connection needs it and shared by
 * every agent after. A trust set with no CA of its own uses Node's default store (the system roots
 * and NODE_EXTRA_CA_CERTS), which Node builds once per process.
 *
 * Also the one list of TLS error codes that mean "the server's certificate is not trusted", for
 * every client (registries, engines, the KFP API).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { SecureContext } from 'node:tls';
import { nodeTls } from '../node-modules.js';

/** What a client trusts beyond the system roots, and the certificate it presents. */
export interface TlsTrust {
  /** CA certificates (PEM) trusted besides the system roots and NODE_EXTRA_CA_CERTS. */
  extraCas: string[];
  /** A client certificate and its key (PEM), for servers that ask for one. */
  cert?: string;
  key?: string;
}

const contexts = new Map<string, SecureContext>();

/** The secure context of a trust set: the same object for the same certificates, made once. */
export function secureContextFor(trust: TlsTrust): SecureContext {
  const key = trustKey(trust);
  let context = contexts.get(key);
  if (!context) {
    const client = trust.cert && trust.key ? { cert: trust.cert, key: trust.key } : {};
    // Without `ca`, Node trusts its default store (shared, built once); with it, the list replaces
    // that store, so the system roots go first.
    const tls = nodeTls();
    context = tls.createSecureContext(trust.extraCas.length > 0 ? { ca: [...tls.rootCertificates, ...trust.extraCas], ...client } : client);
    contexts.set(key, context);
  }
  return context;
}

/** NODE_EXTRA_CA_CERTS as Node read it when the process started (it reads the file then, and only then). */
const EXTRA_CA_FILE_AT_START = process.env.NODE_EXTRA_CA_CERTS;

/**
 * The CA of NODE_EXTRA_CA_CERTS in `env`, when Node's default store lacks it: an environment given
 * to a client that names another file than the process started with. Empty otherwise.
 */
export function extraCasOfEnv(env: NodeJS.ProcessEnv): string[] {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file || file === EXTRA_CA_FILE_AT_START || !existsSync(file)) return [];
  return [readFileSync(file, 'utf8')];
}

function trustKey(trust: TlsTrust): string {
  const hash = createHash('sha256');
  for (const part of [...trust.extraCas, '\0cert', trust.cert ?? '', '\0key', trust.key ?? '']) hash.update(part).update('\0');
  return hash.digest('hex');
}

/** Verification failures of the server's certificate: not signed by a trusted CA, out of date, or for another name. */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Whether an error code says the server's certificate failed verification. */
export function isUntrustedCertificate(code: string): boolean {
  return UNTRUSTED_CERTIFICATE_CODES.has(code);
}
