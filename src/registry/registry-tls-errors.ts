/**
 * TLS failures of registry calls, classified where they arise: a certificate that is not trusted
 * and a client certificate the registry refused are final (never retried as if the registry were
 * down) and say where the files go; a registry that answers TLS in plain HTTP is told apart, so an
 * insecure registry can be spoken to over HTTP.
 */
import { RegistryTlsError } from '../errors.js';
import { isUntrustedCertificate } from '../tls/tls-trust.js';

function codeOf(e: unknown): string {
  return (e as { code?: string }).code ?? '';
}

/** The other end answered a TLS hello in plain HTTP. */
export function speaksNoTls(e: unknown): boolean {
  const code = codeOf(e);
  const message = e instanceof Error ? e.message : String(e);
  return code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || /wrong version number|packet length too long/i.test(message);
}

/** A TLS failure as the final error it is, or undefined for any other failure. */
export function tlsFailure(registry: string, e: unknown, certsDirs: string[]): RegistryTlsError | undefined {
  const code = codeOf(e);
  const where = certsDirs.join(', ');
  if (isUntrustedCertificate(code)) {
    const what =
      code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'is not for this host name' : code.startsWith('CERT_') ? 'is out of its validity period' : 'is not trusted';
    return new RegistryTlsError(`the TLS certificate of registry ${registry} ${what} (${code})`, {
      cause: e,
      hint: `Put the CA certificate that signed it in ${certsDirs[certsDirs.length - 1]}/ca.crt (or one of ${where}), as dockerd reads it.`,
    });
  }
  const message = e instanceof Error ? e.message : String(e);
  if (
    /alert (bad certificate|certificate required|unknown ca|certificate unknown|handshake failure)|ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|HANDSHAKE_FAILURE)/i.test(
      `${code} ${message}`,
    )
  ) {
    return new RegistryTlsError(`registry ${registry} refused the TLS connection: it wants a client certificate it trusts (${code || message})`, {
      cause: e,
      hint: `Put client.cert and client.key in one of ${where}.`,
    });
  }
  return undefined;
}

/** A registry that speaks plain HTTP, where the engine would not either: say how to allow it. */
export function plainHttpRefused(registry: string): RegistryTlsError {
  return new RegistryTlsError(`registry ${registry} answers in plain HTTP, and the engine does not let it go without TLS`, {
    hint: `Serve it over TLS, or add "${registry}" to the engine's insecure-registries (daemon.json) — or to HELMET_INSECURE_REGISTRIES.`,
  });
}
