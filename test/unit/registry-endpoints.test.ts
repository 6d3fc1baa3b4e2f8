/**
 * How a registry is reached (pure logic; the real TLS and token registries are in
 * test/integration/registry-tls.test.ts): the transport and why, and the certificates read from
 * certs.d folders in the docker CLI's order.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type EngineRegistryConfig, RegistryEndpoints, registryUrl } from '../../src/registry/registry-endpoints.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function certsRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'helmet-certs-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const engine = (config: EngineRegistryConfig | undefined) => async () => config;

describe('the route to a registry', () => {
  it('loopback: TLS first, plain HTTP when it speaks none (without asking the engine)', async () => {
    let asked = 0;
    const endpoints = new RegistryEndpoints({ env: {}, certsDirs: [], engineConfig: async () => (asked++, undefined) });
    expect(await endpoints.route('127.0.0.1:5055')).toMatchObject({ transport: 'https-then-http' });
    expect(await endpoints.route('localhost')).toMatchObject({ transport: 'https-then-http' });
    expect(asked).toBe(0);
  });

  it('a name the engine marks insecure (IndexConfigs) or that resolves into its insecure CIDRs; verified TLS otherwise', async () => {
    const config = { insecureCidrs: ['127.0.0.0/8', '10.99.0.0/16'], secure: { 'harbor.lan:5000': false, 'secure.lan': true } };
    const endpoints = new RegistryEndpoints({ env: {}, certsDirs: [], engineConfig: engine(config) });
    expect(await endpoints.route('harbor.lan:5000')).toMatchObject({ transport: 'https-then-http', reason: expect.stringMatching(/insecure-registries/) });
    expect(await endpoints.route('10.99.3.4:443')).toMatchObject({
      transport: 'https-then-http',
      reason: expect.stringMatching(/inside the engine's insecure/),
    });
    // "localhost.localdomain"-style names resolve; here a literal name that resolves to loopback.
    expect(await endpoints.route('localhost:5000')).toMatchObject({ transport: 'https-then-http' });
    expect(await endpoints.route('secure.lan')).toMatchObject({ transport: 'https' });
    expect(await endpoints.route('10.98.0.1')).toMatchObject({ transport: 'https' });
  });

  it('no engine to ask: only loopback goes without TLS', async () => {
    const endpoints = new RegistryEndpoints({ env: {}, certsDirs: [], engineConfig: async () => Promise.reject(new Error('no engine')) });
    expect(await endpoints.route('harbor.lan')).toMatchObject({ transport: 'https' });
  });

  it('HELMET_INSECURE_REGISTRIES: plain HTTP at once', async () => {
    const endpoints = new RegistryEndpoints({ env: { HELMET_INSECURE_REGISTRIES: 'other, harbor.lan:80' }, certsDirs: [], engineConfig: engine(undefined) });
    expect(await endpoints.route('harbor.lan:80')).toMatchObject({ transport: 'http', reason: 'listed in HELMET_INSECURE_REGISTRIES' });
    expect(await endpoints.route('harbor.lan')).toMatchObject({ transport: 'https' });
  });

  it('trusts the system CAs plus every *.crt of the registry folder, and presents a *.cert with its *.key', async () => {
    const first = certsRoot({ 'harbor.lan:5000/ca.crt': 'CA-ONE', 'harbor.lan:5000/client.cert': 'CERT', 'harbor.lan:5000/client.key': 'KEY' });
    const second = certsRoot({ 'harbor.lan:5000/extra.crt': 'CA-TWO', 'other.lan/ca.crt': 'NOT-FOR-HARBOR' });
    const endpoints = new RegistryEndpoints({ env: {}, certsDirs: [first, second], engineConfig: engine(undefined) });
    const { tls } = await endpoints.route('harbor.lan:5000');
    expect(tls.extraCas).toEqual(['CA-ONE', 'CA-TWO']);
    expect(tls).toMatchObject({ cert: 'CERT', key: 'KEY' });
    expect(tls.files).toEqual([
      join(first, 'harbor.lan:5000/ca.crt'),
      join(first, 'harbor.lan:5000/client.cert'),
      join(first, 'harbor.lan:5000/client.key'),
      join(second, 'harbor.lan:5000/extra.crt'),
    ]);
  });

  it('a client certificate without its key is not used', async () => {
    const root = certsRoot({ 'harbor.lan/client.cert': 'CERT' });
    const { tls } = await new RegistryEndpoints({ env: {}, certsDirs: [root], engineConfig: engine(undefined) }).route('harbor.lan');
    expect(tls.cert).toBeUndefined();
  });

  it('reads $DOCKER_CONFIG/certs.d first, then ~/.docker/certs.d and /etc/docker/certs.d', () => {
    const endpoints = new RegistryEndpoints({ env: { DOCKER_CONFIG: '/cfg' } });
    expect(endpoints.certsDirs('harbor.lan:443')).toEqual([
      '/cfg/certs.d/harbor.lan:443',
      expect.stringMatching(/\.docker\/certs\.d\/harbor\.lan:443$/),
      '/etc/docker/certs.d/harbor.lan:443',
    ]);
    expect(registryUrl('docker.io', 'https')).toBe('https://registry-1.docker.io');
  });
});
