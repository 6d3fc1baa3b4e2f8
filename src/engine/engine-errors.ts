/**
 * Engine failures classified once, where they arise: a transport failure is "unreachable" (exit 3,
 * with what went wrong on the way: TLS trust, client certificate, plain HTTP against TLS), an error
 * answer is an EngineError, and a push or pull failure the engine reports in words becomes the
 * registry error it describes (unreachable, credentials, permissions, or a transfer that broke off).
 */
import {
  EngineError,
  EngineUnreachableError,
  errorMessage,
  type HelmetError,
  isHelmetError,
  PullFailedError,
  PushFailedError,
  RegistryAuthError,
  RegistryForbiddenError,
  RegistryUnreachableError,
} from '../errors.js';
import { isUntrustedCertificate } from '../tls/tls-trust.js';
import { describeEngine } from './engine-connection.js';

/** Dropped or refused connections: worth another try for a call that changes nothing. */
export const RETRIED_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT']);

export const START_ENGINE_HINT = 'Start a Docker engine, or point DOCKER_HOST at one (helmet-build doctor says what it finds there).';

/** Transport failures: no engine answers at DOCKER_HOST. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EACCES']);
const TLS_FILES_HINT = 'Check DOCKER_CERT_PATH: ca.pem must be the CA that signed the engine, cert.pem/key.pem a client certificate it accepts.';

/** What went wrong on the way to the engine, when the failure is one of transport (exit 3); undefined otherwise. */
export function transportFailure(e: unknown): { cause: string; hint: string } | undefined {
  const code = (e as { code?: string }).code ?? '';
  const message = errorMessage(e);
  if (isUntrustedCertificate(code)) return { cause: `the engine's TLS certificate is not trusted (${code})`, hint: TLS_FILES_HINT };
  if (/HTTP request to an HTTPS server/i.test(message)) {
    return {
      cause: 'the engine expects TLS, but DOCKER_TLS_VERIFY is not set',
      hint: 'Set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the folder with ca.pem, cert.pem and key.pem.',
    };
  }
  if (/wrong version number|packet length too long/i.test(message)) {
    return {
      cause: 'the engine does not speak TLS at this address',
      hint: 'Unset DOCKER_TLS_VERIFY for a plain engine, or check the port (TLS engines usually listen on 2376).',
    };
  }
  if (/alert (unknown ca|bad certificate|certificate required|handshake failure)|certificate required/i.test(message)) {
    return { cause: 'the engine refused the client certificate (cert.pem is not signed by a CA it trusts)', hint: TLS_FILES_HINT };
  }
  if (code === 'EPROTO' || code.startsWith('ERR_SSL_')) return { cause: `TLS failed: ${message}`, hint: TLS_FILES_HINT };
  if (UNREACHABLE_CODES.has(code)) return { cause: code, hint: START_ENGINE_HINT };
  return undefined;
}

/** An Engine API failure as a typed error: unreachable (exit 3) or an error answer (exit 1). */
/** `where`: the engine, as messages name it (its DOCKER_HOST, or its `engines:` entry). */
export function engineError(what: string, e: unknown, where: string = describeEngine()): HelmetError {
  if (isHelmetError(e)) return e;
  const transport = transportFailure(e);
  if (transport) return new EngineUnreachableError(`lost the Docker engine at ${where} (${what}): ${transport.cause}`, { cause: e, hint: transport.hint });
  const status = (e as { statusCode?: number }).statusCode;
  const message = (e as { json?: { message?: string } }).json?.message ?? errorMessage(e);
  return new EngineError(`the Docker engine could not ${what}${status ? ` (HTTP ${status})` : ''}: ${message}`, { cause: e });
}

/**
 * A push or pull failure reported by the engine (it talks to the registry, and says what went wrong
 * only in words): unreachable, credentials, permissions, or the transfer itself.
 */
export function registryTransferError(kind: 'push' | 'pull', ref: string, message: string): HelmetError {
  const text = `${kind} of ${ref} failed: ${message}`;
  if (/connection refused|no such host|i\/o timeout|dial tcp|network is unreachable|TLS handshake timeout/i.test(message)) {
    return new RegistryUnreachableError(text, { hint: 'Check the registry address and that the registry is running.' });
  }
  if (/unexpected HTTP status: (5\d\d|429)|\b50[234] (Bad Gateway|Service Unavailable|Gateway Timeout)/i.test(message)) {
    return new RegistryUnreachableError(text, { hint: 'The registry is not serving (an error status of its own); try again later.' });
  }
  if (/unauthorized|authentication required|no basic auth credentials/i.test(message)) {
    return new RegistryAuthError(text, { hint: 'Log in (docker login) or set HELMET_REGISTRY_USER / HELMET_REGISTRY_PASSWORD.' });
  }
  if (/denied|forbidden/i.test(message)) {
    return new RegistryForbiddenError(text, { hint: 'The credentials lack permission for this repository: check the account or robot permissions.' });
  }
  // A transfer that broke off, or an error status of the registry's own, is worth another try:
  // what reached the registry is skipped next time.
  const retryable = /\b(5\d\d|429)\b|EOF|connection reset|timeout/i.test(message);
  return kind === 'push' ? new PushFailedError(text, { retryable }) : new PullFailedError(text);
}
