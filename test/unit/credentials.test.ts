import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialSource, engineAuth } from '../../src/registry/credentials.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function configDir(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'helmet-cfg-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A CredentialSource over `config` whose helpers answer with `answer`, recording "helper server" per call. */
function withHelpers(config: unknown, answer: (helper: string, server: string) => string): { source: CredentialSource; asked: string[] } {
  const asked: string[] = [];
  const source = new CredentialSource({
    env: {},
    dockerConfigDir: configDir(config),
    runHelper: async (helper, server) => {
      asked.push(`${helper} ${server}`);
      return answer(helper, server);
    },
  });
  return { source, asked };
}

describe('CredentialSource', () => {
  it('HELMET_REGISTRY_USER/PASSWORD win over the Docker config', async () => {
    const dir = configDir({ auths: { 'reg.example': { auth: b64('cfg:cfgpw') } } });
    const source = new CredentialSource({ env: { HELMET_REGISTRY_USER: 'env', HELMET_REGISTRY_PASSWORD: 'envpw' }, dockerConfigDir: dir });
    expect(await source.get('reg.example')).toMatchObject({ username: 'env', password: 'envpw', source: 'HELMET_REGISTRY_USER/HELMET_REGISTRY_PASSWORD' });
  });

  it('reads auths entries keyed by host or by URL, with passwords containing colons', async () => {
    const dir = configDir({ auths: { 'https://reg.example/v1/': { auth: b64('u:p:w') }, 'other:5000': { username: 'a', password: 'b' } } });
    const source = new CredentialSource({ env: {}, dockerConfigDir: dir });
    expect(await source.get('reg.example')).toMatchObject({
      username: 'u',
      password: 'p:w',
      source: expect.stringContaining('auths["https://reg.example/v1/"]'),
    });
    expect(await source.get('other:5000')).toMatchObject({ username: 'a', password: 'b' });
    expect(await source.get('unknown.example')).toBeUndefined();
  });

  it('asks credHelpers for their registry and credsStore for the rest; <token> means an identity token', async () => {
    const { source, asked } = withHelpers({ credHelpers: { 'ecr.example': 'ecr-login' }, credsStore: 'desktop' }, (helper, server) => {
      if (helper === 'ecr-login') return JSON.stringify({ Username: 'AWS', Secret: 'ecrpw' });
      if (server === 'docker.io' || server === 'https://index.docker.io/v1/') return JSON.stringify({ Username: '<token>', Secret: 'idtok' });
      throw new Error('credentials not found in native keychain');
    });
    expect(await source.get('ecr.example')).toEqual({ username: 'AWS', password: 'ecrpw', source: 'docker-credential-ecr-login' });
    expect(await source.get('docker.io')).toEqual({ identityToken: 'idtok', source: 'docker-credential-desktop' });
    expect(await source.get('nothing.example')).toBeUndefined();
    expect(asked).toEqual(['ecr-login ecr.example', 'desktop https://index.docker.io/v1/', 'desktop nothing.example']);
  });
});

describe('CredentialSource order, as the docker CLI reads the config', () => {
  it('matches Docker Hub as the docker CLI does: docker.io is the https://index.docker.io/v1/ entry, in credHelpers and auths', async () => {
    const { source: viaHelper, asked } = withHelpers({ credHelpers: { 'https://index.docker.io/v1/': 'hub' } }, () =>
      JSON.stringify({ Username: 'me', Secret: 'hubpw' }),
    );
    expect(await viaHelper.get('docker.io')).toMatchObject({ username: 'me', password: 'hubpw' });
    expect(asked).toEqual(['hub https://index.docker.io/v1/']);
    const authsDir = configDir({ auths: { 'https://index.docker.io/v1/': { auth: b64('me:authpw') } } });
    expect(await new CredentialSource({ env: {}, dockerConfigDir: authsDir }).get('docker.io')).toMatchObject({ username: 'me', password: 'authpw' });
  });

  it('credsStore before a stale auths entry; auths when the store has nothing for the registry', async () => {
    const config = { credsStore: 'desktop', auths: { 'reg.example': { auth: b64('stale:old') }, 'only-auths.example': { auth: b64('a:b') } } };
    const { source } = withHelpers(config, (_helper, server) => {
      if (server === 'reg.example') return JSON.stringify({ Username: 'fresh', Secret: 'new' });
      throw new Error('credentials not found in native keychain');
    });
    expect(await source.get('reg.example')).toEqual({ username: 'fresh', password: 'new', source: 'docker-credential-desktop' });
    expect(await source.get('only-auths.example')).toMatchObject({ username: 'a', password: 'b' });
  });
});

describe('engineAuth', () => {
  it('passes identity tokens, passwords, or a bare server address for registries without login', async () => {
    expect(engineAuth('r.example', undefined)).toEqual({ serveraddress: 'r.example' });
    expect(engineAuth('r.example', { identityToken: 't' })).toEqual({ serveraddress: 'r.example', identitytoken: 't' });
    expect(engineAuth('r.example', { username: 'u', password: 'p', source: 'x' })).toEqual({ serveraddress: 'r.example', username: 'u', password: 'p' });
  });
});
