import { createHash } from 'node:crypto';
import { errorMessage, RegistryAuthError, RegistryError, RegistryForbiddenError, RegistryUnreachableError } from '../errors.js';
import { isTransientStatus, type RetryPolicy, retryPolicy, TransientFault, withRetries } from '../retry/retry.js';
import type { CredentialSource, Credentials } from './credentials.js';
import { type HttpRequest, type HttpResponse, HttpTransportError, httpRequest } from './http.js';
import { registryBaseUrl } from './image-ref.js';
import type { RegistryApi } from './registry-api.js';

/** The environment variable that sets how often a registry call is tried again. */
export const REGISTRY_RETRIES = 'HELMET_REGISTRY_RETRIES';

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/**
 * Registry HTTP API v2, only what helmet-build needs: the digest of a tag. Handles the Basic and
 * Bearer-token challenges with credentials from a CredentialSource.
 */
export class RegistryClient implements RegistryApi {
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly credentials: CredentialSource,
    private readonly retry: RetryPolicy = retryPolicy(REGISTRY_RETRIES),
  ) {}

  /**
   * The manifest digest of `repository:tag`, or undefined when the tag does not exist. The manifest
   * itself is fetched and hashed: a digest is only ever pinned when the registry served those bytes,
   * and a Docker-Content-Digest header that disagrees with them (a broken cache or proxy) is an error.
   */
  async manifestDigest(registry: string, repository: string, tag: string): Promise<string | undefined> {
    const url = `${registryBaseUrl(registry)}/v2/${repository}/manifests/${encodeURIComponent(tag)}`;
    const res = await this.request(registry, repository, url, { headers: { Accept: MANIFEST_TYPES } });
    if (res.status === 404) return undefined;
    if (!res.ok) throw statusError(registry, res.status, `GET ${repository}:${tag}`);
    const served = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
    const claimed = res.headers.get('docker-content-digest');
    if (claimed && claimed !== served) {
      throw new RegistryError(`registry ${registry} says ${repository}:${tag} is ${claimed}, but the manifest it served is ${served}`, {
        hint: 'A proxy or cache in front of the registry serves stale or altered manifests; check it, or push to the registry directly.',
      });
    }
    return served;
  }

  /** Point `toTag` at the manifest `fromTag` has (no layers move); used to add tags to a reused image. */
  async copyTag(registry: string, repository: string, fromTag: string, toTag: string): Promise<void> {
    const base = `${registryBaseUrl(registry)}/v2/${repository}/manifests/`;
    const got = await this.request(registry, repository, base + encodeURIComponent(fromTag), { headers: { Accept: MANIFEST_TYPES } });
    if (!got.ok) throw statusError(registry, got.status, `GET ${repository}:${fromTag}`);
    const contentType = got.headers.get('content-type') ?? 'application/vnd.docker.distribution.manifest.v2+json';
    const body = got.body;
    const put = await this.request(registry, repository, base + encodeURIComponent(toTag), {
      method: 'PUT',
      headers: { 'Content-Type': contentType },
      body,
    });
    if (!put.ok) throw statusError(registry, put.status, `PUT ${repository}:${toTag}`);
  }

  private async request(registry: string, repository: string, url: string, init: HttpRequest): Promise<HttpResponse> {
    const scopeKey = `${registry}/${repository}`;
    const once = async (authorization?: string) => {
      let res: HttpResponse;
      try {
        res = await httpRequest(url, { ...init, headers: { ...init.headers, ...(authorization ? { Authorization: authorization } : {}) } });
      } catch (e) {
        throw new TransientFault(describeTransportError(e));
      }
      if (isTransientStatus(res.status)) throw new TransientFault(`HTTP ${res.status}`, res.status);
      return res;
    };
    const attempts = this.retry.retries + 1;
    const send = (authorization?: string) =>
      withRetries(this.retry, () => once(authorization)).catch((e: unknown) => {
        if (!(e instanceof TransientFault)) throw e;
        throw new RegistryUnreachableError(
          e.status
            ? `registry ${registry} is unavailable: it answered ${e.message} to ${init.method ?? 'GET'} ${repository} (${attempts} attempts)`
            : `cannot reach registry ${registry}: ${e.message} (${attempts} attempts)`,
          { cause: e, hint: 'Check the --push address and that the registry is running; HELMET_REGISTRY_RETRIES sets how often to try.' },
        );
      });
    const cached = this.tokens.get(scopeKey);
    let res = await send(cached);
    if (res.status !== 401) return res;

    const challenge = res.headers.get('www-authenticate') ?? '';
    const creds = await this.credentials.get(registry);
    let authorization: string | undefined;
    if (/^basic/i.test(challenge)) {
      if (!creds?.username || !creds.password) throw authRequired(registry);
      authorization = basicAuthorization(creds.username, creds.password);
    } else if (/^bearer/i.test(challenge)) {
      authorization = `Bearer ${await this.fetchToken(registry, challenge, repository, creds)}`;
    } else {
      throw authRequired(registry);
    }
    res = await send(authorization);
    if (res.status === 401) {
      throw new RegistryAuthError(`registry ${registry} rejected the credentials for ${repository}`, {
        hint: 'Check the credentials in the Docker config or HELMET_REGISTRY_USER / HELMET_REGISTRY_PASSWORD.',
      });
    }
    this.tokens.set(scopeKey, authorization);
    return res;
  }

  private async fetchToken(registry: string, challenge: string, repository: string, creds?: Credentials): Promise<string> {
    const params = parseChallenge(challenge);
    if (!params.realm) throw new RegistryAuthError(`registry ${registry} sent a Bearer challenge without a realm`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${repository}:pull,push`);
    const headers: Record<string, string> = {};
    let init: HttpRequest = { headers };
    if (creds?.identityToken) {
      init = {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: creds.identityToken,
          service: params.service ?? '',
          scope: url.searchParams.get('scope') ?? '',
          client_id: 'helmet-build',
        }).toString(),
      };
    } else if (creds?.username && creds.password) {
      headers.Authorization = basicAuthorization(creds.username, creds.password);
    }
    let res: HttpResponse;
    try {
      res = await httpRequest(url, init);
    } catch (e) {
      throw new RegistryUnreachableError(`cannot reach the token service of ${registry}: ${describeTransportError(e)}`, { cause: e });
    }
    if (!res.ok) throw statusError(registry, res.status, 'the token request');
    let body: { token?: string; access_token?: string };
    try {
      body = JSON.parse(res.body.toString('utf8')) as { token?: string; access_token?: string };
    } catch {
      throw new RegistryAuthError(`token service of ${registry} answered something that is not JSON`);
    }
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryAuthError(`token service of ${registry} returned no token`);
    return token;
  }
}

/** Parse `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of header.replace(/^\w+\s+/, '').matchAll(/(\w+)="([^"]*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

/** The `Authorization` value of HTTP Basic auth. */
export function basicAuthorization(username: string, password: string): string {
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
