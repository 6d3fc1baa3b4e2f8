/**
 * Which engine to talk to, read from the environment as the docker CLI reads it: DOCKER_HOST
 * (unix://, tcp://, ssh://), and for TLS DOCKER_TLS_VERIFY (any non-empty value) with the client
 * files ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH (default ~/.docker). A missing file is
 * bad input (exit 2) named before any connection is tried.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { DockerOptions } from 'dockerode';
import { UsageError } from '../errors.js';

/** Addresses that are no TCP endpoint: docker-modem reads them itself, and TLS does not apply. */
const NOT_TCP = /^(unix|npipe|ssh):\/\//;

/** dockerode options for the engine, or undefined to let docker-modem read DOCKER_HOST itself (unix, ssh, plain tcp). */
export function engineOptions(env: NodeJS.ProcessEnv = process.env): DockerOptions | undefined {
  const host = env.DOCKER_HOST;
  if (!host || !env.DOCKER_TLS_VERIFY || NOT_TCP.test(host)) return undefined;
  let url: URL;
  try {
    url = new URL(host.includes('//') ? host : `tcp://${host}`);
  } catch {
    throw new UsageError(`DOCKER_HOST "${host}" is not an engine address`, {
      hint: 'Examples: unix:///var/run/docker.sock, tcp://build-host:2376, ssh://me@build-host',
    });
  }
  const certPath = env.DOCKER_CERT_PATH || join(homedir(), '.docker');
  const read = (name: string) => {
    const file = join(certPath, name);
    if (!existsSync(file)) {
      throw new UsageError(`DOCKER_TLS_VERIFY is set, but ${file} does not exist`, {
        hint: 'Point DOCKER_CERT_PATH at the folder holding ca.pem, cert.pem and key.pem for this engine.',
      });
    }
    return readFileSync(file);
  };
  return { protocol: 'https', host: url.hostname, port: url.port || '2376', ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
}

/** The engine address for messages: DOCKER_HOST, or the default socket. */
export function describeEngine(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  return env.DOCKER_TLS_VERIFY && !NOT_TCP.test(host) ? `${host} (TLS, client files in ${env.DOCKER_CERT_PATH || '~/.docker'})` : host;
}

/**
 * dockerode options for an engine named by address (an `engines:` entry): unix sockets, ssh, and
 * tcp — with TLS when DOCKER_TLS_VERIFY is set, the client files from DOCKER_CERT_PATH, as for DOCKER_HOST.
 */
export function hostOptions(host: string, env: NodeJS.ProcessEnv = process.env): DockerOptions {
  const tls = engineOptions({ ...env, DOCKER_HOST: host });
  if (tls) return tls;
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new UsageError(`engine "${host}" is not an engine address`, {
      hint: 'Examples: unix:///var/run/docker.sock, tcp://build-host:2375, ssh://me@build-host',
    });
  }
  if (url.protocol === 'unix:') return { socketPath: url.pathname };
  if (url.protocol === 'tcp:') return { protocol: 'http', host: url.hostname, port: url.port || '2375' };
  if (url.protocol === 'ssh:') return { protocol: 'ssh', host: url.hostname, port: url.port || '22', ...(url.username ? { username: url.username } : {}) };
  throw new UsageError(`engine "${host}": ${url.protocol.replace(/:$/, '')} is no engine address scheme`, { hint: 'Use unix://, tcp:// or ssh://.' });
}
