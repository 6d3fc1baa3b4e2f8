import type { Readable } from 'node:stream';

/** Registry credentials in the shape the Engine API's X-Registry-Auth takes. */
export interface RegistryAuth {
  serveraddress: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface BuildRequest {
  /** What is being built, for messages (the component name). */
  name: string;
  context: Readable;
  /** Dockerfile path inside the context tar. */
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  noCache?: boolean;
  platform?: string;
  onLog?: (line: string) => void;
}

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
  repoDigests: string[];
}

export interface PushRequest {
  /** Repository without tag, e.g. localhost:5000/helmet/train */
  repository: string;
  tag: string;
  auth: RegistryAuth;
  onProgress?: (line: string) => void;
}

/**
 * The small part of the Docker Engine API helmet-build uses. The core depends on this interface,
 * so pure logic can be tested with a fake and the real daemon is used through `DockerEngine`.
 */
export interface EngineClient {
  /** Throws EngineUnreachableError when no engine answers. */
  ping(): Promise<void>;
  /** Builds and returns the image ID; throws BuildFailedError on any error event. */
  build(request: BuildRequest): Promise<string>;
  /** Pushes and returns the manifest digest the engine reports. */
  push(request: PushRequest): Promise<string>;
  tag(image: string, repository: string, tag: string): Promise<void>;
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  removeImage(ref: string): Promise<void>;
}
