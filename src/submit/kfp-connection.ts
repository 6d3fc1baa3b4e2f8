/**
 * Where the KFP API server is and what a request to it carries, found as kfp.Client finds them
 * (sdk/python/kfp/client/client.py): the host from `--host` or KF_PIPELINES_ENDPOINT (no scheme is
 * https://), a Bearer token from KF_PIPELINES_TOKEN or the file at KF_PIPELINES_SA_TOKEN_PATH (read
 * again for every request, since a projected service-account token is rotated under a running job),
 * a cookie from KF_PIPELINES_COOKIE or `client_authentication_cookie` of ~/.config/kfp/context.json,
 * and the header `client_authentication_header_name`/`_value` of the same file. TLS trusts the CAs
 * Node ships with plus NODE_EXTRA_CA_CERTS, as the registry client does. No secret is ever part of
 * a message: `source` names where the credentials came from, never what they are.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { extraCasOfEnv, type TlsTrust } from '../tls/tls-trust.js';

export interface KfpConnection {
  /** Base URL without a trailing slash; API paths (`/apis/v2beta1/…`) are appended to it. */
  host: string;
  /** Base URL of the UI, for links: KF_PIPELINES_UI_ENDPOINT, else the host. */
  uiHost: string;
  /** The headers of one request; the token file is read each time. */
  headers(): Record<string, string>;
  /** Where the credentials came from, in words (`token from KF_PIPELINES_TOKEN`), or that there are none. */
  source: string;
  /** The namespace of ~/.config/kfp/context.json, when it names one. */
  contextNamespace?: string;
  /** What HTTPS connections trust besides the system roots (NODE_EXTRA_CA_CERTS). */
  tls: TlsTrust;
}

export interface ConnectionOptions {
  /** `--host`; wins over KF_PIPELINES_ENDPOINT. */
  host?: string;
  env: NodeJS.ProcessEnv;
  /** The folder ~/.config/kfp/context.json is read from. @default os.homedir() */
  home?: string;
}

/** The context file kfp.Client reads and writes (`set_user_namespace`); only the keys it reads are used. */
interface KfpContext {
  namespace?: string;
  client_authentication_cookie?: string;
  client_authentication_header_name?: string;
  client_authentication_header_value?: string;
}

export function kfpConnection(o: ConnectionOptions): KfpConnection {
  const raw = (o.host ?? o.env.KF_PIPELINES_ENDPOINT ?? '').trim();
  if (!raw) {
    throw new UsageError('no KFP API server given', {
      hint: 'Pass --host https://kfp.example.com (or set KF_PIPELINES_ENDPOINT), e.g. --host http://127.0.0.1:8888 for a kubectl port-forward of ml-pipeline-ui.',
    });
  }
  const host = normalizeHost(raw, o.host ? '--host' : 'KF_PIPELINES_ENDPOINT');
  const uiRaw = o.env.KF_PIPELINES_UI_ENDPOINT?.trim();
  const uiHost = uiRaw ? normalizeHost(uiRaw, 'KF_PIPELINES_UI_ENDPOINT') : host;
  const contextFile = join(o.home ?? homedir(), '.config', 'kfp', 'context.json');
  const context = readContext(contextFile);
  const shortContext = '~/.config/kfp/context.json';

  const sources: string[] = [];
  let token: () => string | undefined = () => undefined;
  const envToken = o.env.KF_PIPELINES_TOKEN;
  const tokenPath = o.env.KF_PIPELINES_SA_TOKEN_PATH;
  if (envToken) {
    token = () => envToken.trim();
    sources.push('a token from KF_PIPELINES_TOKEN');
  } else if (tokenPath) {
    const readToken = () => {
      try {
        return readFileSync(tokenPath, 'utf8').trim();
      } catch (e) {
        throw new UsageError(`KF_PIPELINES_SA_TOKEN_PATH: cannot read ${tokenPath} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, {
          hint: 'Point KF_PIPELINES_SA_TOKEN_PATH at the projected service-account token (e.g. /var/run/secrets/kubeflow/pipelines/token), or unset it.',
        });
      }
    };
    // Read once now, so that a wrong path is bad input before any request.
    readToken();
    token = readToken;
    sources.push(`a token from the file KF_PIPELINES_SA_TOKEN_PATH names (${tokenPath})`);
  }
  const cookie = o.env.KF_PIPELINES_COOKIE || context.client_authentication_cookie;
  if (o.env.KF_PIPELINES_COOKIE) sources.push('a cookie from KF_PIPELINES_COOKIE');
  else if (cookie) sources.push(`a cookie from ${shortContext} (client_authentication_cookie)`);
  const headerName = context.client_authentication_header_name;
  const headerValue = context.client_authentication_header_value;
  if (headerName && headerValue !== undefined) sources.push(`the header ${headerName} from ${shortContext}`);

  return {
    host,
    uiHost,
    source: sources.length ? sources.join(', ') : 'no credentials (none of KF_PIPELINES_TOKEN, KF_PIPELINES_SA_TOKEN_PATH, KF_PIPELINES_COOKIE is set)',
    ...(context.namespace ? { contextNamespace: context.namespace } : {}),
    tls: { extraCas: extraCasOfEnv(o.env) },
    headers: () => {
      const h: Record<string, string> = {};
      const t = token();
      if (t) h.Authorization = `Bearer ${t}`;
      if (cookie) h.Cookie = cookie;
      if (headerName && headerValue !== undefined) h[headerName] = headerValue;
      return h;
    },
  };
}

/** `kfp.example.com/` -> `https://kfp.example.com`, as kfp.Client does; a path prefix is kept. */
function normalizeHost(raw: string, from: string): string {
  const withScheme = /^https?:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`${from}: "${raw}" is not a URL`, { hint: 'Give it as https://host[:port][/path], e.g. https://kubeflow.example.com/pipeline' });
  }
  if (url.username || url.password) {
    throw new UsageError(`${from}: the URL carries credentials`, {
      hint: 'Give a token through KF_PIPELINES_TOKEN (or a cookie through KF_PIPELINES_COOKIE) instead.',
    });
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

function readContext(file: string): KfpContext {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: not JSON (${(e as Error).message})`, { hint: 'Fix or remove the file; kfp.Client writes it with set_user_namespace.' });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${file}: not a JSON object`);
  const out: KfpContext = {};
  for (const key of ['namespace', 'client_authentication_cookie', 'client_authentication_header_name', 'client_authentication_header_value'] as const) {
    const v = (parsed as Record<string, unknown>)[key];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw new UsageError(`${file}: ${key} is not a string`);
    out[key] = v;
  }
  return out;
}
