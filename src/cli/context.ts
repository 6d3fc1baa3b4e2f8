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
