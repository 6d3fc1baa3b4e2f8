import { createHash } from 'node:crypto';
import { errorMessage, RegistryAuthError, RegistryError, RegistryForbiddenError, RegistryUnreachableError } from '../errors.js';
import { type HttpRequest, type HttpResponse, HttpTransportError, httpRequest } from '../http/http-client.js';
import { isTransientStatus, type RetryPolicy, retryPolicy, TransientFault, withRetries } from '../retry/retry.js';
import type { CredentialSource, Credentials } from './credentials.js';
import type { Manifest, RegistryApi } from './registry-api.js';
import { RegistryEndpoints, type RegistryRoute, registryUrl } from './registry-endpoints.js';
import { plainHttpRefused, speaksNoTls, tlsFailure } from './registry-tls-errors.js';
import { TransportKnowledge, type TransportMemory } from './transport-memory.js';

/** The environment variable that sets how often a registry call is tried again. */
export const REGISTRY_RETRIES = 'HELMET_REGISTRY_RETRIES';

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/**
 * Registry HTTP API v2, only what helmet-build needs: the digest of a tag, and a tag copied by
 * manifest. Reaches each registry as its RegistryEndpoints route says (TLS from certs.d, plain HTTP
 * only where the engine allows it), and answers the Basic and Bearer-token challenges with
 * credentials from a CredentialSource: a token is asked for the narrowest scope a call needs
 * (`pull` for lookups, `pull,push` for tag copies) and reused for that scope until it expires.
 */
export class RegistryClient implements RegistryApi {
  /** Authorization per registry, repository and actions, with the time it expires (ms). */
  private readonly authorizations = new Map<string, { value: string; until: number }>();
  /** Registries the engine lets go without TLS that speak plain HTTP. */
  private readonly transports: TransportKnowledge;
  /**
   * Per registry the engine lets go without TLS, the run's first request to it: the requests after it
   * wait until it has learnt whether the registry speaks TLS, so a plain-HTTP registry costs one
   * failed handshake a run, not one per request in flight.
   */
  private readonly firstContact = new Map<string, Promise<unknown>>();

  constructor(
    private readonly credentials: CredentialSource,
    private readonly endpoints: RegistryEndpoints = new RegistryEndpoints(),
    private readonly retry: RetryPolicy = retryPolicy(REGISTRY_RETRIES),
    memory?: TransportMemory,
  ) {
    this.transports = new TransportKnowledge(memory);
  }

  /**
   * The manifest digest of `repository:tag`, or undefined when the tag does not exist. The manifest
   * itself is fetched and hashed: a digest is only ever pinned when the registry served those bytes,
   * and a Docker-Content-Digest header that disagrees with them (a broken cache or proxy) is an error.
   */
  async manifestDigest(registry: string, repository: string, tag: string): Promise<string | undefined> {
    return (await this.manifest(registry, repository, tag))?.digest;
  }

  /** The manifest `reference` (a tag or digest) names, with its digest checked as `manifestDigest` checks it; undefined when there is none. */
  async manifest(registry: string, repository: string, reference: string): Promise<Manifest | undefined> {
    const res = await this.request(registry, repository, 'pull', `/v2/${repository}/manifests/${encodeURIComponent(reference)}`, {
      headers: { Accept: MANIFEST_TYPES },
    });
    if (res.status === 404) return undefined;
    if (!res.ok) throw statusError(registry, res.status, `GET ${repository}:${reference}`);
    const served = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
    const claimed = res.headers.get('docker-content-digest');
    if (claimed && claimed !== served) {
      throw new RegistryError(`registry ${registry} says ${repository}:${reference} is ${claimed}, but the manifest it served is ${served}`, {
        hint: 'A proxy or cache in front of the registry serves stale or altered manifests; check it, or push to the registry directly.',
      });
    }
    const mediaType = res.headers.get('content-type') ?? 'application/vnd.docker.distribution.manifest.v2+json';
    return { digest: served, mediaType, body: res.body };
  }

  /** Point `toTag` at the manifest `fromTag` has (no layers move); used to add tags to a reused image. */
  async copyTag(registry: string, repository: string, fromTag: string, toTag: string): Promise<void> {
    const path = `/v2/${repository}/manifests/`;
    const got = await this.request(registry, repository, 'pull,push', path + encodeURIComponent(fromTag), { headers: { Accept: MANIFEST_TYPES } });
    if (!got.ok) throw statusError(registry, got.status, `GET ${repository}:${fromTag}`);
    const contentType = got.headers.get('content-type') ?? 'application/vnd.docker.distribution.manifest.v2+json';
    await this.putManifest(registry, repository, toTag, contentType, got.body);
  }

  /** Store `body` (a manifest or index of `mediaType` whose blobs and manifests the registry holds) under `tag`. */
  async putManifest(registry: string, repository: string, tag: string, mediaType: string, body: Buffer): Promise<void> {
    const put = await this.request(registry, repository, 'pull,push', `/v2/${repository}/manifests/${encodeURIComponent(tag)}`, {
      method: 'PUT',
      headers: { 'Content-Type': mediaType },
      body,
    });
    if (!put.ok) throw statusError(registry, put.status, `PUT ${repository}:${tag}`);
  }

  /** The blob `digest` of a repository (checked against its digest), or undefined when there is none. */
  async blob(registry: string, repository: string, digest: string): Promise<Buffer | undefined> {
    const res = await this.request(registry, repository, 'pull', `/v2/${repository}/blobs/${digest}`, {});
    if (res.status === 404) return undefined;
    if (!res.ok) throw statusError(registry, res.status, `GET blob ${digest} of ${repository}`);
    if (`sha256:${createHash('sha256').update(res.body).digest('hex')}` !== digest)
      throw new RegistryError(`registry ${registry} served other bytes for ${repository}'s blob ${digest}`);
    return res.body;
  }

  /** Upload `body` as a blob of the repository (in one request), unless the registry holds it; its digest. */
  async pushBlob(registry: string, repository: string, body: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const head = await this.request(registry, repository, 'pull,push', `/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
    if (head.ok) return digest;
    const started = await this.request(registry, repository, 'pull,push', `/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    const location = started.headers.get('location');
    if (started.status !== 202 || !location) throw statusError(registry, started.status, `POST a blob upload to ${repository}`);
    const url = new URL(location, 'http://registry.invalid');
    const put = await this.request(registry, repository, 'pull,push', `${url.pathname}${url.search ? `${url.search}&` : '?'}digest=${digest}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body,
    });
    if (put.status !== 201) throw statusError(registry, put.status, `PUT blob ${digest} to ${repository}`);
    return digest;
  }

  /** How `registry` is reached, for `doctor`: the transport and why. */
  async describeRoute(registry: string): Promise<string> {
    const route = await this.endpoints.route(registry);
    if (route.transport === 'https-then-http') return `${this.transports.speaksPlainHttp(registry) ? 'plain HTTP' : 'TLS, else plain HTTP'} (${route.reason})`;
    return route.transport === 'http' ? `plain HTTP (${route.reason})` : route.reason;
  }

  private async request(registry: string, repository: string, actions: Actions, path: string, init: HttpRequest): Promise<HttpResponse> {
    const route = await this.endpoints.route(registry);
    if (route.transport !== 'https-then-http') return this.requestOn(route, registry, repository, actions, path, init);
    const first = this.firstContact.get(registry);
    if (first) {
      await first.catch(() => undefined);
      return this.requestOn(route, registry, repository, actions, path, init);
    }
    // What an earlier run learnt spares this one a TLS handshake the registry cannot answer.
    this.transports.firstContact(registry);
    const answer = this.requestOn(route, registry, repository, actions, path, init);
    this.firstContact.set(registry, answer);
    return answer;
  }

  /** The request with the cached authorization for its scope; on a 401, once more with what the challenge asks for. */
  private async requestOn(
    route: RegistryRoute,
    registry: string,
    repository: string,
    actions: Actions,
    path: string,
    init: HttpRequest,
  ): Promise<HttpResponse> {
    const scopeKey = `${registry}/${repository}:${actions}`;
    const send = (authorization?: string) => this.sendWithRetries(route, registry, repository, path, init, authorization);
    const cached = this.authorizations.get(scopeKey);
    let res = await send(cached && cached.until > Date.now() ? cached.value : undefined);
    if (res.status !== 401) return res;
    const authorization = await this.answerChallenge(registry, repository, actions, res.headers.get('www-authenticate') ?? '');
    res = await send(authorization.value);
    if (res.status === 401) {
      throw new RegistryAuthError(`registry ${registry} rejected the credentials for ${repository}`, {
        hint: 'Check the credentials in the Docker config or HELMET_REGISTRY_USER / HELMET_REGISTRY_PASSWORD.',
      });
    }
    this.authorizations.set(scopeKey, authorization);
    return res;
  }

  /** Basic credentials, or a Bearer token from the challenge's realm; how long it may be reused. */
  private async answerChallenge(registry: string, repository: string, actions: Actions, challenge: string): Promise<{ value: string; until: number }> {
    const creds = await this.credentials.get(registry);
    if (/^basic/i.test(challenge)) {
      if (!creds?.username || !creds.password) throw authRequired(registry);
      return { value: basicAuthorization(creds.username, creds.password), until: Number.POSITIVE_INFINITY };
    }
    if (/^bearer/i.test(challenge)) {
      const token = await this.fetchToken(registry, challenge, `repository:${repository}:${actions}`, creds);
      return { value: `Bearer ${token.token}`, until: token.until };
    }
    throw authRequired(registry);
  }

  /** One request, tried again on transient faults; exit 3 when they last. */
  private sendWithRetries(route: RegistryRoute, registry: string, repository: string, path: string, init: HttpRequest, authorization?: string) {
    const attempts = this.retry.retries + 1;
    return withRetries(this.retry, () => this.sendOnce(route, registry, path, init, authorization)).catch((e: unknown) => {
      if (!(e instanceof TransientFault)) throw e;
      throw new RegistryUnreachableError(
        e.status
          ? `registry ${registry} is unavailable: it answered ${e.message} to ${init.method ?? 'GET'} ${repository} (${attempts} attempts)`
          : `cannot reach registry ${registry}: ${e.message} (${attempts} attempts)`,
        { cause: e, hint: 'Check the --push address and that the registry is running; HELMET_REGISTRY_RETRIES sets how often to try.' },
      );
    });
  }

  /** One request over the route's transport; a transient fault thrown as one. */
  private async sendOnce(route: RegistryRoute, registry: string, path: string, init: HttpRequest, authorization?: string): Promise<HttpResponse> {
    const plain = route.transport === 'http' || this.transports.speaksPlainHttp(registry);
    const url = registryUrl(registry, plain ? 'http' : 'https') + path;
    const headers = { ...init.headers, ...(authorization ? { Authorization: authorization } : {}) };
    let res: HttpResponse;
    try {
      res = await httpRequest(url, { ...init, headers, tls: route.tls });
    } catch (e) {
      // Plain HTTP only because an earlier run found it so, and no answer: the registry may speak TLS now.
      if (plain && this.transports.assumesPlainHttp(registry)) return this.tlsFirstAgain(route, registry, path, init, authorization);
      // A registry the engine lets go without TLS, answering in plain HTTP: speak HTTP to it from now on.
      if (!plain && route.transport === 'https-then-http' && speaksNoTls(e)) {
        this.transports.foundPlainHttp(registry);
        return this.sendOnce(route, registry, path, init, authorization);
      }
      if (!plain && speaksNoTls(e)) throw plainHttpRefused(registry);
      const tls = tlsFailure(registry, e, this.endpoints.certsDirs(registry));
      if (tls) throw tls;
      throw new TransientFault(describeTransportError(e));
    }
    if (plain && this.transports.assumesPlainHttp(registry)) {
      // A TLS server answers a plain HTTP request with 400 ("sent an HTTP request to an HTTPS server").
      if (res.status === 400) return this.tlsFirstAgain(route, registry, path, init, authorization);
      this.transports.confirmed(registry);
    }
    if (isTransientStatus(res.status)) throw new TransientFault(`HTTP ${res.status}`, res.status);
    return res;
  }

  /** What an earlier run learnt no longer holds: TLS first again, as for a registry never spoken to. */
  private tlsFirstAgain(route: RegistryRoute, registry: string, path: string, init: HttpRequest, authorization?: string): Promise<HttpResponse> {
    this.transports.forget(registry);
    return this.sendOnce(route, registry, path, init, authorization);
  }

  /**
   * A token from the realm of a Bearer challenge, for `scope` (the challenge's own when it names
   * one). The registry's credentials go to the realm only over TLS or on loopback, or when the realm
   * is the registry's own host: never in clear to another host.
   */
  private async fetchToken(registry: string, challenge: string, scope: string, creds?: Credentials): Promise<{ token: string; until: number }> {
    const params = parseChallenge(challenge);
    if (!params.realm) throw new RegistryAuthError(`registry ${registry} sent a Bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(params.realm);
    } catch {
      throw new RegistryAuthError(`registry ${registry} sent a Bearer challenge with a realm that is no URL: ${params.realm}`);
    }
    if (params.service) url.searchParams.set('service', params.service);
    // The scope this call needs (the same for every call of its kind, so the token is reused), and the
    // challenge's own when it names another one.
    url.searchParams.append('scope', scope);
    if (params.scope && params.scope !== scope) url.searchParams.append('scope', params.scope);
    const realmHost = url.host;
    const mayCarryCredentials = url.protocol === 'https:' || realmHost === registry || LOOPBACK_HOST.test(url.hostname);
    const headers: Record<string, string> = {};
    let init: HttpRequest = { headers };
    if (creds && mayCarryCredentials && creds.identityToken) {
      init = {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: creds.identityToken,
          service: params.service ?? '',
          scope: url.searchParams.getAll('scope').join(' '),
          client_id: 'helmet-build',
        }).toString(),
      };
    } else if (creds?.username && creds.password && mayCarryCredentials) {
      headers.Authorization = basicAuthorization(creds.username, creds.password);
    }
    const realmRoute = url.protocol === 'https:' ? await this.endpoints.route(realmHost) : undefined;
    let res: HttpResponse;
    try {
      res = await httpRequest(url, { ...init, ...(realmRoute ? { tls: realmRoute.tls } : {}) });
    } catch (e) {
      const tls = tlsFailure(realmHost, e, this.endpoints.certsDirs(realmHost));
      if (tls) throw tls;
      throw new RegistryUnreachableError(`cannot reach the token service of ${registry} (${realmHost}): ${describeTransportError(e)}`, { cause: e });
    }
    if (res.status === 401 || res.status === 403) {
      throw new RegistryAuthError(`the token service of ${registry} refused the credentials (HTTP ${res.status})`, {
        hint: 'Check the credentials in the Docker config or HELMET_REGISTRY_USER / HELMET_REGISTRY_PASSWORD.',
      });
    }
    if (!res.ok) throw statusError(registry, res.status, 'the token request');
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = JSON.parse(res.body.toString('utf8')) as typeof body;
    } catch {
      throw new RegistryAuthError(`token service of ${registry} answered something that is not JSON`);
    }
    const token = body.access_token ?? body.token;
    if (!token) throw new RegistryAuthError(`token service of ${registry} returned no token`);
    // Tokens last at least 60 s (the token spec's default); renew a little before they end.
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    return { token, until: Date.now() + Math.max(0, seconds - 10) * 1000 };
  }
}

/** What a token is asked for: lookups read, tag copies write. */
type Actions = 'pull' | 'pull,push';

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/** Parse `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.replace(/^\w+\s+/, '').matchAll(/(\w+)="([^"]*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/** The `Authorization` value of HTTP Basic auth. */
function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/**
 * An error status as the typed error a user can act on: 401 is about the credentials, 403 about
 * permissions — neither means the registry is unreachable — and anything else is the registry's own fault.
 */
export function statusError(registry: string, status: number, what: string): RegistryAuthError | RegistryForbiddenError | RegistryError {
  if (status === 401) {
    return new RegistryAuthError(`registry ${registry} rejected the credentials (HTTP 401 to ${what})`, {
      hint: 'Check the credentials in the Docker config or HELMET_REGISTRY_USER / HELMET_REGISTRY_PASSWORD.',
    });
  }
  if (status === 403) {
    return new RegistryForbiddenError(`registry ${registry} forbids ${what} (HTTP 403)`, {
      hint: 'The credentials were accepted but lack permission for this repository: check the account or robot permissions.',
    });
  }
  return new RegistryError(`registry ${registry} answered HTTP ${status} to ${what}`, {
    hint: status >= 500 ? 'The registry reported an error of its own; try again, or check the registry.' : undefined,
  });
}

function authRequired(registry: string): RegistryAuthError {
  return new RegistryAuthError(`registry ${registry} requires credentials and none were found`, {
    hint: 'Run docker login for it, or set HELMET_REGISTRY_USER and HELMET_REGISTRY_PASSWORD.',
  });
}

function describeTransportError(e: unknown): string {
  return e instanceof HttpTransportError ? e.code : errorMessage(e);
}
