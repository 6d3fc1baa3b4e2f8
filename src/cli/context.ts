import { DockerEngine } from '../engine/docker-engine.js';
import { UsageError } from '../errors.js';
import { CredentialSource } from '../registry/credentials.js';
import { RegistryClient } from '../registry/registry-client.js';
import { RegistryEndpoints } from '../registry/registry-endpoints.js';
import { projectTransportMemory } from '../registry/transport-memory.js';

/** Registry credentials given on the command line (`--password-stdin`); they win over every other source. */
export interface Login {
  username: string;
  password: string;
}

/**
 * Real collaborators for the commands; tests of the core inject fakes instead. With the project's
 * `root`, what the registry client learns of registries' transports is kept in its cache folder.
 */
export function realServices(login?: Login, root?: string) {
  const env = login ? { ...process.env, HELMET_REGISTRY_USER: login.username, HELMET_REGISTRY_PASSWORD: login.password } : process.env;
  const credentials = new CredentialSource({ env, source: login ? '--password-stdin' : undefined });
  const engine = new DockerEngine();
  // Which registries go without TLS is the engine's to say (asked only for a registry off loopback).
  const endpoints = new RegistryEndpoints({ env, engineConfig: () => engine.registryConfig() });
  // One client per engine address for the whole run: the store, the platform check and the builds share its connection.
  const engines = new Map<string, DockerEngine>();
  const engineAt = (host: string) => {
    if (!engines.has(host)) engines.set(host, new DockerEngine(undefined, host));
    return engines.get(host)!;
  };
  const registry = new RegistryClient(credentials, endpoints, undefined, root ? projectTransportMemory(root) : undefined);
  return { engine, engineAt, credentials, registry };
}

export interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Standard input, for --password-stdin. @default process.stdin */
  in?: NodeJS.ReadableStream;
}

/**
 * With --password-stdin, the password is all of standard input (one trailing newline dropped, as
 * `docker login --password-stdin` does) and the user is --username or HELMET_REGISTRY_USER.
 */
export async function readLogin(flags: { username?: string; passwordStdin?: boolean }, io: Io): Promise<Login | undefined> {
  if (!flags.passwordStdin) {
    if (flags.username)
      throw new UsageError('--username needs --password-stdin', {
        hint: 'Example: echo "$TOKEN" | helmet-build all --push REPO --username ci --password-stdin',
      });
    return undefined;
  }
  const username = flags.username ?? process.env.HELMET_REGISTRY_USER;
  if (!username) throw new UsageError('--password-stdin needs a user name: --username NAME or HELMET_REGISTRY_USER');
  const password = await readAllOf(io.in ?? process.stdin);
  if (!password) throw new UsageError('--password-stdin: standard input was empty', { hint: 'Pipe the password in: echo "$TOKEN" | helmet-build …' });
  return { username, password };
}

/**
 * The password of an encrypted signing key: COSIGN_PASSWORD, as cosign reads it; else all of standard
 * input (one trailing newline dropped) when it is no terminal and --password-stdin does not take it.
 */
export async function signingPassword(flags: { passwordStdin?: boolean }, io: Io): Promise<string | undefined> {
  if (process.env.COSIGN_PASSWORD !== undefined) return process.env.COSIGN_PASSWORD;
  const stdin = io.in ?? process.stdin;
  if (flags.passwordStdin || (stdin as { isTTY?: boolean }).isTTY) return undefined;
  return (await readAllOf(stdin)) || undefined;
}

/** All of a stream as text, one trailing newline dropped (as `docker login --password-stdin` reads it). */
async function readAllOf(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
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
