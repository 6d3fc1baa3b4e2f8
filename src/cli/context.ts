import { DockerEngine } from '../engine/docker-engine.js';
import { CredentialSource } from '../registry/credentials.js';
import { RegistryClient } from '../registry/registry-client.js';

/** Real collaborators for the commands; tests of the core inject fakes instead. */
export function realServices() {
  const credentials = new CredentialSource();
  return { engine: new DockerEngine(), credentials, registry: new RegistryClient(credentials) };
}

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/**
 * Ctrl-C (SIGINT) or SIGTERM aborts the returned signal instead of killing the process, so the core
 * can cancel its work and clean up; call `dispose` after.
 */
export function interruptOnSigint(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
