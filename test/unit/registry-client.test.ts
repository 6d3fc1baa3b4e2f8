import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryAuthError, RegistryUnreachableError } from '../../src/errors.js';
import { CredentialSource } from '../../src/registry/credentials.js';
import { parseChallenge, RegistryClient } from '../../src/registry/registry-client.js';
import { closedPort } from '../support/ports.js';

const MANIFEST = '{"schemaVersion":2}';
const MANIFEST_DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;

/** A loopback registry that speaks the Bearer-token flow, as Docker Hub, GHCR and Harbor do. */
async function tokenRegistry(): Promise<{ host: string; requests: IncomingMessage[]; close: () => void }> {
  const requests: IncomingMessage[] = [];
  let base = '';
  const server: Server = createServer((req, res) => {
    requests.push(req);
    if (req.url!.startsWith('/token')) {
      const ok = req.headers.authorization === `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
      if (!ok) return res.writeHead(401).end();
      const scope = new URL(req.url!, base).searchParams.get('scope');
      return res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: `tok:${scope}` }));
    }
    if (req.headers.authorization !== 'Bearer tok:repository:team/app:pull') {
      return res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${base}/token",service="test-registry",scope="repository:team/app:pull"` }).end();
    }
    if (req.url === '/v2/team/app/manifests/v1') return res.writeHead(200, { 'Docker-Content-Digest': MANIFEST_DIGEST }).end(MANIFEST);
    return res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `http://${host}`;
  return { host, requests, close: () => server.close() };
}

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

const creds = (env: Record<string, string>) => new CredentialSource({ env, dockerConfigDir: '/nonexistent' });

describe('RegistryClient', () => {
  it('follows the Bearer challenge with Basic credentials and reuses the token', async () => {
    const reg = await tokenRegistry();
    closers.push(reg.close);
    const client = new RegistryClient(creds({ HELMET_REGISTRY_USER: 'alice', HELMET_REGISTRY_PASSWORD: 's3cret' }));
    expect(await client.manifestDigest(reg.host, 'team/app', 'v1')).toBe(MANIFEST_DIGEST);
    expect(await client.manifestDigest(reg.host, 'team/app', 'v2')).toBeUndefined();
    // 401, token, retry; then the cached token goes straight through.
    expect(reg.requests.map((r) => `${r.method} ${r.url!.split('?')[0]}`)).toEqual([
      'GET /v2/team/app/manifests/v1',
      'GET /token',
      'GET /v2/team/app/manifests/v1',
      'GET /v2/team/app/manifests/v2',
    ]);
  });

  it('wrong credentials are an auth error that does not contain the password', async () => {
    const reg = await tokenRegistry();
    closers.push(reg.close);
    const client = new RegistryClient(creds({ HELMET_REGISTRY_USER: 'alice', HELMET_REGISTRY_PASSWORD: 'wrong-pw' }));
    const err = await client.manifestDigest(reg.host, 'team/app', 'v1').catch((e) => e);
    expect(err).toBeInstanceOf(RegistryAuthError);
    expect(`${err.message} ${err.hint ?? ''}`).not.toContain('wrong-pw');
  });

  it('an unreachable registry is RegistryUnreachableError (exit 3)', async () => {
    const port = await closedPort();
    const client = new RegistryClient(creds({}));
    const err = await client.manifestDigest(`127.0.0.1:${port}`, 'x', 'y').catch((e) => e);
    expect(err).toBeInstanceOf(RegistryUnreachableError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('parses challenge parameters', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull"')).toEqual({
      realm: 'https://auth.example/token',
      service: 'reg',
      scope: 'repository:a/b:pull',
    });
  });
});
