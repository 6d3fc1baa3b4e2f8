/**
 * The one HTTP client of helmet-build, for registries and the KFP API alike: node:http/node:https
 * with keep-alive agents (one per trust set, so each TLS context is made once and its connections
 * reused across a run), a timeout per attempt covering the whole answer, and abort. Small requests
 * answered in full: lighter to load than `fetch` (undici). Redirects are followed for GET and HEAD
 * (without the Authorization header when they lead to another host), unless a caller keeps them.
 */
import { Agent as HttpAgent, request as httpRequestRaw, type IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { SecureContext } from 'node:tls';
import { nodeHttps } from '../node-modules.js';
import { secureContextFor, type TlsTrust } from '../tls/tls-trust.js';

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Per attempt, covering the whole answer. @default 30 s */
  timeoutMs?: number;
  /** Trust and client certificate for HTTPS; requests with the same trust share connections. @default the system CAs */
  tls?: TlsTrust;
  /** Redirects are answers to the caller (not followed). @default false: GET and HEAD follow them */
  keepRedirects?: boolean;
  /** Stops the request; it then fails with HttpTransportError code ABORT_ERR. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  ok: boolean;
  headers: { get(name: string): string | null };
  body: Buffer;
}

/** A failure to talk at all (no answer): `code` is the system or TLS error code. */
export class HttpTransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
/** HTTPS with the default trust; made (and node:https loaded) by the first HTTPS request. */
let httpsAgent: HttpsAgent | undefined;
/** One keep-alive agent per secure context: each trust set's context is made once and shared by its sockets. */
const tlsAgents = new WeakMap<SecureContext, HttpsAgent>();

function agentFor(url: URL, tls: TlsTrust | undefined): HttpAgent | HttpsAgent | undefined {
  if (url.protocol === 'http:') return httpAgent;
  if (url.protocol !== 'https:') return undefined;
  if (!tls) {
    httpsAgent ??= new (nodeHttps().Agent)({ keepAlive: true, maxSockets: 16 });
    return httpsAgent;
  }
  const secureContext = secureContextFor(tls);
  let agent = tlsAgents.get(secureContext);
  if (!agent) {
    agent = new (nodeHttps().Agent)({ keepAlive: true, maxSockets: 16, secureContext });
    tlsAgents.set(secureContext, agent);
  }
  return agent;
}
const MAX_REDIRECTS = 5;

export async function httpRequest(url: string | URL, init: HttpRequest = {}): Promise<HttpResponse> {
  let target = new URL(url);
  let headers = { ...init.headers };
  for (let hop = 0; ; hop++) {
    const res = await sendOne(target, { ...init, headers });
    if (init.keepRedirects) return res;
    const location = res.headers.get('location');
    const method = init.method ?? 'GET';
    if (location && [301, 302, 303, 307, 308].includes(res.status) && (method === 'GET' || method === 'HEAD') && hop < MAX_REDIRECTS) {
      const next = new URL(location, target);
      if (next.host !== target.host) {
        const { Authorization: _dropped, authorization: _also, ...rest } = headers;
        headers = rest;
      }
      target = next;
      continue;
    }
    return res;
  }
}

/** One request, no redirect followed. */
function sendOne(url: URL, init: HttpRequest): Promise<HttpResponse> {
  const send = url.protocol === 'https:' ? nodeHttps().request : httpRequestRaw;
  const agent = agentFor(url, init.tls);
  if (!agent) return Promise.reject(new HttpTransportError(`unsupported protocol ${url.protocol}`, 'EPROTO'));
  const body = init.body === undefined ? undefined : Buffer.from(init.body);
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: init.method ?? 'GET',
        agent,
        ...(init.signal ? { signal: init.signal } : {}),
        headers: { ...init.headers, ...(body ? { 'Content-Length': String(body.length) } : {}) },
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(transportError(e)));
        res.on('aborted', () => reject(new HttpTransportError('the connection closed mid-answer', 'ECONNRESET')));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve({
            status,
            ok: status >= 200 && status < 300,
            headers: { get: (name) => headerValue(res.headers[name.toLowerCase()]) },
            body: Buffer.concat(chunks),
          });
        });
      },
    );
    const timeoutMs = init.timeoutMs ?? 30_000;
    req.setTimeout(timeoutMs, () => req.destroy(new HttpTransportError(`no answer in ${timeoutMs / 1000} s`, 'ETIMEDOUT')));
    req.on('error', (e) => reject(transportError(e)));
    req.end(body);
  });
}

function headerValue(v: string | string[] | undefined): string | null {
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : v;
}

function transportError(e: Error): HttpTransportError {
  if (e instanceof HttpTransportError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? 'ECONNRESET';
  return new HttpTransportError(e.message, code);
}
