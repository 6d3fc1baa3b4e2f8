/**
 * Docker Hub's names, in one place: the registry name credentials and references use (`docker.io`),
 * the other hosts it goes by (BuildKit asks for `registry-1.docker.io`, old configs say
 * `index.docker.io`), the key the docker CLI files its credentials under, and the short form image
 * references take (`busybox` for `docker.io/library/busybox`).
 */

export const DOCKER_HUB = 'docker.io';
/** The host that serves Docker Hub's registry API. */
const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
/** Every name Docker Hub goes by, `docker.io` first. */
export const DOCKER_HUB_HOSTS = [DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API_HOST];
/** Where the docker CLI files Docker Hub's credentials (config.json keys, credential helpers, the classic builder's auth). */
const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** A host as the registry it is: any of Docker Hub's names as `docker.io`. */
export function registryOfHost(host: string): string {
  return DOCKER_HUB_HOSTS.includes(host) ? DOCKER_HUB : host;
}

/** The key a registry's credentials are filed under, as the docker CLI files them. */
export function authKeyOf(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : registry;
}

/** The host the registry API of `registry` answers on. */
export function apiHostOf(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}

/** A reference as the engine lists it: Docker Hub's long forms (`docker.io/library/x:1`) as the short one (`x:1`). */
export function shortDockerHubName(ref: string): string {
  return ref.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
}
