/**
 * JSON over HTTP to the KFP API server, on helmet-build's one HTTP client (a submit is a dozen small
 * requests to one host, on one kept-alive connection). Answers become data or typed errors: no answer is
 * KfpUnreachableError (exit 3), 401 and a redirect (to a login page, as Dex or oauth2-proxy answer
 * a request without a session) KfpAuthError, 403 KfpForbiddenError, any other error status
 * KfpApiError with KFP's own message (`error_message` of the upload endpoints, `message` or
 * `error` of the gRPC gateway). Redirects are never followed: the credentials stay with the host.
 */
import { randomBytes } from 'node:crypto';
import { InterruptedError, KfpApiError, KfpAuthError, KfpForbiddenError, KfpUnreachableError } from '../errors.js';
import { httpRequest } from '../http/http-client.js';
import { isUntrustedCertificate } from '../tls/tls-trust.js';
import type { KfpConnection } from './kfp-connection.js';

export type Query = Record<string, string | number | undefined>;

export interface KfpRequest {
  method: 'GET' | 'POST';
  /** From the host on: `/apis/v2beta1/pipelines`. */
  path: string;
  query?: Query;
  /** A JSON body. */
  json?: unknown;
  /** A multipart/form-data body with one file field. */
  file?: { field: string; name: string; content: Buffer };
  /** What the request is for, in messages: `upload the pipeline`. */
  what: string;
}

/** A request the server answered (any status). */
export interface KfpAnswer {
  status: number;
  body: unknown;
}

export class KfpHttp {
  constructor(
    private readonly connection: KfpConnection,
    private readonly signal?: AbortSignal,
    private readonly timeoutMs = 30_000,
  ) {}

  /** The answer as JSON for a 2xx status; every other outcome is a typed error. */
  async call<T>(req: KfpRequest): Promise<T> {
    const answer = await this.send(req);
    if (answer.status >= 200 && answer.status < 300) return answer.body as T;
    throw this.statusError(req, answer);
  }

  /** The answer whatever its status, for requests whose 404 means something (healthz). Transport errors still throw. */
  async send(req: KfpRequest): Promise<KfpAnswer & { location?: string }> {
    const url = new URL(`${this.connection.host}${req.path}`);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { Accept: 'application/json', ...this.connection.headers() };
    let body: Buffer | undefined;
    if (req.json !== undefined) {
      body = Buffer.from(JSON.stringify(req.json));
      headers['Content-Type'] = 'application/json';
    } else if (req.file) {
      const boundary = `----helmet-build-${randomBytes(12).toString('hex')}`;
      body = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${req.file.field}"; filename="${req.file.name}"\r\nContent-Type: application/x-yaml\r\n\r\n`,
        ),
        req.file.content,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      headers['Content-Type'] = `multipart/form-data; boundary=${boundary}`;
    }
    if (body) headers['Content-Length'] = String(body.length);
    const res = await this.exchange(url, req, headers, body);
    const text = res.body.toString('utf8');
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      // Not JSON: kept as text for the message (an HTML login page, a proxy's error page).
    }
    if (res.status >= 300 && res.status < 400) {
      const location = res.location ?? '(no Location)';
      throw new KfpAuthError(
        `KFP ${this.connection.host}: ${req.what}: redirected to ${redactQuery(location)} — a login page? authentication is needed; used ${this.connection.source}`,
        {
          hint: 'Behind Dex or oauth2-proxy, pass the session cookie (KF_PIPELINES_COOKIE="authservice_session=…") or a token (KF_PIPELINES_TOKEN).',
        },
      );
    }
    return { status: res.status, body: parsed, ...(res.location ? { location: res.location } : {}) };
  }

  private async exchange(
    url: URL,
    req: KfpRequest,
    headers: Record<string, string>,
    body: Buffer | undefined,
  ): Promise<{ status: number; body: Buffer; location?: string }> {
    if (this.signal?.aborted) throw new InterruptedError(`interrupted before: ${req.what}`);
    try {
      const res = await httpRequest(url, {
        method: req.method,
        headers,
        ...(body ? { body } : {}),
        tls: this.connection.tls,
        timeoutMs: this.timeoutMs,
        keepRedirects: true,
        ...(this.signal ? { signal: this.signal } : {}),
      });
      const location = res.headers.get('location');
      return { status: res.status, body: res.body, ...(location ? { location } : {}) };
    } catch (e) {
      if (this.signal?.aborted) throw new InterruptedError(`interrupted during: ${req.what}`);
      throw this.transportError(req, e as Error & { code?: string });
    }
  }

  private transportError(req: KfpRequest, e: Error & { code?: string }): Error {
    const code = e.code ?? 'ECONNRESET';
    const host = this.connection.host;
    if (isUntrustedCertificate(code)) {
      return new KfpUnreachableError(`KFP ${host}: ${req.what}: TLS: ${e.message} (${code})`, {
        hint: "Trust the server's CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem, or check that --host names the server the certificate is for.",
      });
    }
    return new KfpUnreachableError(`KFP ${host} is unreachable: ${req.what}: ${e.message} (${code})`, {
      hint: 'Check --host / KF_PIPELINES_ENDPOINT and that the server runs (kubectl -n kubeflow port-forward svc/ml-pipeline-ui 8080:80 for a local port).',
    });
  }

  /** The error an answer with this status is (401, 403, KFP's message). */
  statusError(req: KfpRequest, answer: KfpAnswer): Error {
    const host = this.connection.host;
    const said = kfpMessage(answer.body);
    const tail = said ? `: ${said}` : '';
    if (answer.status === 401) {
      return new KfpAuthError(
        `KFP ${host}: ${req.what}: 401, authentication failed (credentials missing, wrong or expired); used ${this.connection.source}${tail}`,
        {
          hint: 'Give a valid token (KF_PIPELINES_TOKEN, KF_PIPELINES_SA_TOKEN_PATH) or session cookie (KF_PIPELINES_COOKIE).',
        },
      );
    }
    if (answer.status === 403) {
      return new KfpForbiddenError(
        `KFP ${host}: ${req.what}: 403, not authorised (the credentials were accepted, but may not do this); used ${this.connection.source}${tail}`,
        {
          hint: 'Check --namespace and that the account may use it (in multi-user KFP, a profile contributor of that namespace).',
        },
      );
    }
    return new KfpApiError(`KFP ${host}: ${req.what}: HTTP ${answer.status}${tail}`, { status: answer.status });
  }
}

/** KFP's own words in an error body: `error_message` (upload), `message` (gateway), `error` (v1 gateway), else short text. */
function kfpMessage(body: unknown): string | undefined {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const key of ['error_message', 'message', 'error']) if (typeof b[key] === 'string' && b[key]) return b[key] as string;
    return undefined;
  }
  if (typeof body === 'string' && body.trim()) {
    const text = body
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  }
  return undefined;
}

/** A redirect target without its query (a login URL's state and nonce are of no use in a message). */
function redactQuery(location: string): string {
  const q = location.indexOf('?');
  return q < 0 ? location : `${location.slice(0, q)}?…`;
}
