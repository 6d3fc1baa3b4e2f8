/**
 * The small part of the Docker Engine API helmet-build uses, as data types and one interface. The
 * core depends on this interface, so pure logic can be tested with a fake and the real daemon is
 * used through `DockerEngine`.
 */

import type { Readable } from 'node:stream';
import type { BuildStep } from '../model/build-step.js';
import type { LocalDirs } from '../model/local-dirs.js';
import type { PushProgress } from '../model/push-progress.js';
import type { RegistryAuth } from '../registry/credentials.js';
import type { EngineRegistryConfig } from '../registry/registry-endpoints.js';

/** `classic`: the engine's legacy builder; `buildkit`: BuildKit through `POST /build?version=2`. */
export type Builder = 'classic' | 'buildkit';

export interface BuildRequest {
  /** What is being built, for messages (the component name). */
  name: string;
  /**
   * The context as a tar body (the classic builder, or BuildKit with HELMET_CONTEXT_TRANSFER=tar),
   * or, for BuildKit, the folders its FileSync serves (the context and the Dockerfile, apart).
   */
  context: Readable | LocalDirs;
  /** Dockerfile path inside the context tar, or its name in the `dockerfile` folder of `LocalDirs`. */
  dockerfile: string;
  tags: string[];
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  noCache?: boolean;
  platform?: string;
  /** Multi-stage target. */
  target?: string;
  /** @default buildkit */
  builder?: Builder;
  /** Network of RUN steps (host, none, …); the engine's default when unset. */
  network?: string;
  /** Images whose inline cache BuildKit may reuse layers from. */
  cacheFrom?: string[];
  /** Credentials per registry, for the classic builder's pulls of base images (X-Registry-Config). */
  registryAuth?: Record<string, RegistryAuth>;
  /** What a BuildKit build's session serves the daemon (registry credentials, secrets, SSH agents). */
  session?: SessionOptions;
  /** Values never shown in clear (credential-looking build args): step names, output lines and errors show `sha256:<hex>`. */
  redact?: string[];
  onLog?: (line: string) => void;
  /** Each step (Dockerfile instruction) as it starts and ends. */
  onStep?: (step: BuildStep) => void;
  /** Aborting cancels the build in the engine. */
  signal?: AbortSignal;
}

/** One FileSync transfer: the folder, how many entries it listed, how many files the daemon asked for, their bytes. */
export interface ContextSent {
  dir: string;
  entries: number;
  files: number;
  bytes: number;
}

/** A build secret (`RUN --mount=type=secret,id=ID`): its value is read from `env` or `file` when the build asks for it. */
export type BuildSecret = { id: string; env: string } | { id: string; file: string };

/** An SSH agent a build may use (`RUN --mount=type=ssh,id=ID`): the socket of a running ssh-agent. */
export interface SshAgent {
  id: string;
  socket: string;
}

/** What the BuildKit session of one build serves. */
export interface SessionOptions {
  /** Stable per context folder (the daemon keys what it keeps of a context by it). */
  sharedKey: string;
  /** Registry credentials for a registry host the build pulls from; undefined: anonymous. */
  credentials?: (host: string) => Promise<RegistryAuth | undefined>;
  secrets?: BuildSecret[];
  ssh?: SshAgent[];
  /** The folders FileSync serves (the context and the Dockerfile); without them, none is served. */
  localDirs?: LocalDirs;
  onContextSent?: (sent: ContextSent) => void;
}

/** What an engine can do for builds. */
export interface EngineCapabilities {
  /** BuildKit builds through the Engine API (API 1.39 and later, Linux). */
  buildkit: boolean;
  /** A `bridge` network exists; without one, BuildKit RUN steps need another network mode. */
  bridge: boolean;
}

/** What `doctor` shows of an engine. */
export interface EngineFacts {
  version: string;
  apiVersion: string;
  storageDriver: string;
  /** `containerd`: the containerd image store (containerd-snapshotter); `classic`: the graph drivers. */
  imageStore: 'classic' | 'containerd';
  os: string;
  /** The platform it builds natively, `os/arch` as an image index writes it. */
  platform: string;
}

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
  repoDigests: string[];
  /** Diff IDs of its layers, base first (RootFS.Layers); from inspectImage only (a listing has none). */
  layers?: string[];
}

export interface PushRequest {
  /** Repository without tag, e.g. localhost:5000/helmet/train */
  repository: string;
  tag: string;
  auth: RegistryAuth;
  /** Byte counts as layers are sent. */
  onProgress?: (progress: PushProgress) => void;
}

export interface RunRequest {
  image: string;
  /** KFP `command`: replaces the image's ENTRYPOINT when given. */
  entrypoint?: string[];
  /** KFP `args`: replaces the image's CMD when given. */
  cmd?: string[];
  env?: Record<string, string>;
  /** Named volumes: volume name -> mount path. */
  volumes?: Record<string, string>;
  /** Folders of this machine: host path -> mount path (the engine must run here). */
  binds?: Record<string, string>;
  /** Engine network mode, e.g. host or none. */
  network?: string;
  /** GPUs to request through the engine's device requests. */
  gpus?: number;
  labels?: Record<string, string>;
  onLog?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Aborting stops and removes the container. */
  signal?: AbortSignal;
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
  /** Every image that has `label`, by each of its `repository:tag` names: one call for what would be an inspect per name. */
  imagesLabelled(label: string): Promise<Map<string, ImageInfo>>;
  removeImage(ref: string): Promise<void>;
  pullImage(ref: string, auth: RegistryAuth): Promise<void>;
  /** Runs a container to its end, streaming its output; returns its exit code. The container is removed. */
  runContainer(request: RunRequest): Promise<number>;
  createVolume(name: string, labels: Record<string, string>): Promise<void>;
  removeVolume(name: string): Promise<void>;
  /** Whether the engine can hand GPUs to containers (an NVIDIA runtime is registered). */
  hasGpuSupport(): Promise<boolean>;
  /** Which registries the engine speaks to without TLS (its insecure-registries settings). */
  registryConfig(): Promise<EngineRegistryConfig>;
  capabilities(): Promise<EngineCapabilities>;
  /** Engine version facts, for `doctor`. */
  describe(): Promise<EngineFacts>;
}
