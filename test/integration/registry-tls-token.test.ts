/**
 * Registries as companies run them, all real (Debian's docker-registry, distribution 2.8), with
 * certificates made by openssl here and names that are not loopback by name (/etc/hosts entries):
 *   - HTTPS from a private CA: trusted through certs.d (DOCKER_CONFIG/certs.d), refused without it;
 *   - a registry that requires client certificates: client.cert/client.key from certs.d;
 *   - token auth (`auth: token`) with a token issuer run here, a robot account `robot$ml+ci`;
 *   - a plain-HTTP registry the engine lists in insecure-registries (a second dockerd started so),
 *     on IPv6 loopback, which is outside the engine's default insecure range.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCa, signed } from '../support/certs.js';
import { makeProject, runCli, TINY_DOCKERFILE, tinyComponent, withEnv } from '../support/project.js';
import { addHostNames, type RunningRegistry, startRegistry, startTokenIssuer, type TokenIssuer } from '../support/registries.js';
import { removeImages, uniqueName } from '../support/services.js';
import { spawnDockerd } from '../support/tls-engine.js';

const TLS_NAME = 'harbor.helmet.test';
const PLAIN_NAME = 'plain.helmet.test';

/** The manifest digest as the registry serves it over verified TLS (not helmet-build's client). */
function tlsDigest(host: string, port: number, ca: string, repository: string, tag: string, cert?: { cert: string; key: string }): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path: `/v2/${repository}/manifests/${tag}`,
        method: 'HEAD',
        ca,
        ...cert,
        headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200 ? (res.headers['docker-content-digest'] as string) : undefined);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Run the CLI with these environment variables set (restored after). */
const runWithEnv = (env: Record<string, string>, args: string[], cwd: string) => withEnv(env, () => runCli(args, cwd));

describe('registries with TLS from a private CA, client certificates and token auth', () => {
  const dir = mkdtempSync(join(tmpdir(), 'helmet-registries-'));
  const image = uniqueName('itest-reg');
  const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('hello', image, 'hello') });
  const registries: RunningRegistry[] = [];
  let issuer: TokenIssuer;
  let tlsPort: number;
  let mtlsPort: number;
  let tokenPort: number;
  let removeHosts: () => void;
  const trusted = join(dir, 'trusted-config');
  const untrusted = join(dir, 'untrusted-config');
  const ca = () => readFileSync(join(dir, 'ca/ca.pem'), 'utf8');

  beforeAll(async () => {
    removeHosts = addHostNames({ [TLS_NAME]: '127.0.0.1', [PLAIN_NAME]: '::1' });
    makeCa(join(dir, 'ca'), 'helmet registry CA');
    signed(join(dir, 'ca'), join(dir, 'server'), 'server', TLS_NAME, `subjectAltName = DNS:${TLS_NAME}\nextendedKeyUsage = serverAuth\n`);
    signed(join(dir, 'ca'), join(dir, 'client'), 'client', 'ci', 'extendedKeyUsage = clientAuth\n');
    // The token signer: a self-signed certificate that is also the registry's rootcertbundle.
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=token signer', '-keyout', 'signer-key.pem', '-out', 'signer.pem'],
      {
        cwd: dir,
        stdio: 'pipe',
      },
    );
    const serverFiles = `certificate: ${join(dir, 'server/server.pem')}, key: ${join(dir, 'server/server-key.pem')}`;
    const tlsRegistry = await startRegistry(join(dir, 'tls'), `  tls: {${serverFiles}}`, '127.0.0.1', { ca: ca() });
    const mtlsRegistry = await startRegistry(join(dir, 'mtls'), `  tls: {${serverFiles}, clientcas: [${join(dir, 'ca/ca.pem')}]}`, '127.0.0.1', { ca: ca() });
    issuer = await startTokenIssuer({
      users: { 'robot$ml+ci': 's3cret-robot-token' },
      allowedPrefix: 'ml',
      certPem: readFileSync(join(dir, 'signer.pem'), 'utf8'),
      keyPem: readFileSync(join(dir, 'signer-key.pem'), 'utf8'),
    });
    const tokenRegistry = await startRegistry(
      join(dir, 'token'),
      `auth: {token: {realm: "${issuer.realm}", service: ${issuer.service}, issuer: ${issuer.issuer}, rootcertbundle: ${join(dir, 'signer.pem')}}}`,
    );
    registries.push(tlsRegistry, mtlsRegistry, tokenRegistry);
    tlsPort = tlsRegistry.port;
    mtlsPort = mtlsRegistry.port;
    tokenPort = tokenRegistry.port;
    for (const [config, port] of [
      [trusted, tlsPort],
      [trusted, mtlsPort],
    ] as const) {
      const certs = join(config, 'certs.d', `${TLS_NAME}:${port}`);
      mkdirSync(certs, { recursive: true });
      writeFileSync(join(certs, 'ca.crt'), ca());
    }
    const clientCerts = join(trusted, 'certs.d', `${TLS_NAME}:${mtlsPort}`);
    writeFileSync(join(clientCerts, 'client.cert'), readFileSync(join(dir, 'client/client.pem')));
    writeFileSync(join(clientCerts, 'client.key'), readFileSync(join(dir, 'client/client-key.pem')));
    mkdirSync(untrusted, { recursive: true });
  });

  afterAll(async () => {
    for (const r of registries) await r.stop();
    await issuer?.stop();
    removeHosts?.();
    await removeImages(image);
    await removeImages(`${TLS_NAME}:`);
    await removeImages(`127.0.0.1:${tokenPort}/ml`);
    project.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('HTTPS from a private CA: with the CA in certs.d, all --push pins the digests the registry holds', async () => {
    const push = `${TLS_NAME}:${tlsPort}/ml`;
    const r = await runWithEnv({ DOCKER_CONFIG: trusted }, ['all', '--push', push, '--json'], project.root);
    expect(
      r.code,
      r.stdout
        .split('\n')
        .filter((l) => l.includes('error'))
        .join('\n'),
    ).toBe(0);
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    const pinned = report.components.hello.digest as string;
    expect(pinned).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await tlsDigest(TLS_NAME, tlsPort, ca(), `ml/${image}`, report.components.hello.tags[0])).toBe(pinned);
  });

  it('without the CA: exit 3 at the first lookup, saying the certificate is not trusted and where the CA file goes', async () => {
    const r = await runWithEnv({ DOCKER_CONFIG: untrusted }, ['plan', '--push', `${TLS_NAME}:${tlsPort}/ml`], project.root);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`the TLS certificate of registry ${TLS_NAME}:${tlsPort} is not trusted \\(\\w+\\)`));
    expect(r.stderr).toContain(`/etc/docker/certs.d/${TLS_NAME}:${tlsPort}/ca.crt`);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at |attempts\)/);
  });

  it('a registry that requires client certificates: client.cert/client.key from certs.d are presented; without them, exit 3 saying so', async () => {
    const push = `${TLS_NAME}:${mtlsPort}/ml`;
    const ok = await runWithEnv({ DOCKER_CONFIG: trusted }, ['plan', '--push', push, '--json'], project.root);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).components[0]).toMatchObject({ state: 'needs-build', reason: expect.stringContaining('is not in the registry') });

    const caOnly = join(dir, 'ca-only-config');
    mkdirSync(join(caOnly, 'certs.d', `${TLS_NAME}:${mtlsPort}`), { recursive: true });
    writeFileSync(join(caOnly, 'certs.d', `${TLS_NAME}:${mtlsPort}`, 'ca.crt'), ca());
    const refused = await runWithEnv({ DOCKER_CONFIG: caOnly }, ['plan', '--push', push], project.root);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/refused the TLS connection: it wants a client certificate/);
    expect(refused.stderr).toContain('client.cert and client.key');
  });

  it("token auth with a robot account: all --push --tag rel1, then a no-op re-run; only the repositories' own scopes are asked", async () => {
    const push = `127.0.0.1:${tokenPort}/ml`;
    const env = { HELMET_REGISTRY_USER: 'robot$ml+ci', HELMET_REGISTRY_PASSWORD: 's3cret-robot-token' };
    const first = await runWithEnv(env, ['all', '--push', push, '--tag', 'rel1', '--json'], project.root);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    expect(report.components.hello).toMatchObject({ action: 'pushed', tags: expect.arrayContaining(['rel1']) });
    const asked = issuer.requests.length;
    expect(issuer.requests.every((q) => q.user === 'robot$ml+ci' || q.user === undefined)).toBe(true);
    const scopes = new Set(issuer.requests.flatMap((q) => q.scopes));
    // Lookups ask to read, the tag copy to write; nothing outside the component's own repository.
    expect([...scopes].every((s) => s.startsWith(`repository:ml/${image}:`))).toBe(true);
    expect(scopes).toContain(`repository:ml/${image}:pull`);
    expect(scopes).toContain(`repository:ml/${image}:pull,push`);

    const again = await runWithEnv(env, ['all', '--push', push, '--tag', 'rel1', '--json'], project.root);
    expect(again.code, again.stderr).toBe(0);
    const events = again.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'job-started').map((e) => e.kind)).toEqual(['lookup']);
    // Two lookups (content tag, rel1), one token for the one scope they share.
    expect(issuer.requests.length - asked).toBe(1);
    expect(issuer.requests.at(-1)!.scopes).toEqual([`repository:ml/${image}:pull`]);
  });

  /** Sign a changed build pushed to `push` (a PEM key made here), then verify it with cosign itself, given `cosignEnv` (trust, credentials). */
  async function signAndVerify(push: string, env: Record<string, string>, cosignEnv: (keys: string) => Record<string, string>): Promise<void> {
    const cosign = process.env.HELMET_TEST_COSIGN;
    if (!cosign) throw new Error('HELMET_TEST_COSIGN is not set: start the services with scripts/services.sh up');
    const keys = mkdtempSync(join(dir, 'keys-'));
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(keys, 'sign.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(join(keys, 'sign.pub'), publicKey.export({ format: 'pem', type: 'spki' }));
    writeFileSync(join(project.root, 'components/hello/main.sh'), `echo "signed ${keys}"\n`);
    const r = await runWithEnv(env, ['all', '--push', push, '--sign-key', join(keys, 'sign.pem'), '--json'], project.root);
    expect(r.code, r.stderr).toBe(0);
    const { image: pinned } = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components.hello;
    const flags = ['--key', join(keys, 'sign.pub'), '--insecure-ignore-tlog', '--allow-http-registry'];
    const verified = await execa(cosign, ['verify', ...flags, pinned], { env: { HOME: keys, ...cosignEnv(keys) }, reject: false });
    expect(verified.exitCode, verified.stderr).toBe(0);
    const attested = await execa(cosign, ['verify-attestation', '--type', 'slsaprovenance1', ...flags, pinned], {
      env: { HOME: keys, ...cosignEnv(keys) },
      reject: false,
    });
    expect(attested.exitCode, attested.stderr).toBe(0);
  }

  it('HTTPS from a private CA: signatures and provenance go through certs.d trust, and cosign (trusting the same CA) verifies them', async () => {
    await signAndVerify(`${TLS_NAME}:${tlsPort}/ml`, { DOCKER_CONFIG: trusted }, () => ({ SSL_CERT_FILE: join(dir, 'ca/ca.pem') }));
  });

  it('token auth: signatures and provenance are pushed with the robot account (pull,push on its own repository), and cosign verifies them there', async () => {
    const env = { HELMET_REGISTRY_USER: 'robot$ml+ci', HELMET_REGISTRY_PASSWORD: 's3cret-robot-token' };
    // cosign reads the robot account from a Docker config, as a CI job would give it.
    const auth = Buffer.from(`${env.HELMET_REGISTRY_USER}:${env.HELMET_REGISTRY_PASSWORD}`).toString('base64');
    await signAndVerify(`127.0.0.1:${tokenPort}/ml`, env, (keys) => {
      writeFileSync(join(keys, 'config.json'), JSON.stringify({ auths: { [`127.0.0.1:${tokenPort}`]: { auth } } }));
      return { DOCKER_CONFIG: keys };
    });
    expect([...new Set(issuer.requests.flatMap((q) => q.scopes))].every((s) => s.startsWith(`repository:ml/${image}:`))).toBe(true);
  });

  it('token auth with a wrong password: exit 1 REGISTRY_AUTH, the password printed nowhere', async () => {
    const env = { HELMET_REGISTRY_USER: 'robot$ml+ci', HELMET_REGISTRY_PASSWORD: 'not-the-token-xyz' };
    const r = await runWithEnv(env, ['plan', '--push', `127.0.0.1:${tokenPort}/ml`, '--json'], project.root);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('REGISTRY_AUTH');
    expect(r.stdout + r.stderr).not.toContain('not-the-token-xyz');
  });
});

describe('plain HTTP exactly where the engine allows it', () => {
  const dir = mkdtempSync(join('/tmp', 'helmet-insecure-'));
  let registry: RunningRegistry;
  let engine: { host: string; stop: () => Promise<void> } | undefined;
  let removeHosts: () => void;
  const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('hello', uniqueName('itest-plain'), 'hello') });

  beforeAll(async () => {
    removeHosts = addHostNames({ [PLAIN_NAME]: '::1' });
    registry = await startRegistry(join(dir, 'registry'), '', '::1');
  });

  afterAll(async () => {
    await engine?.stop();
    await registry?.stop();
    removeHosts?.();
    project.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a plain-HTTP registry under a name outside the default insecure range: refused over TLS, saying how to allow it', async () => {
    const r = await runCli(['plan', '--push', `${PLAIN_NAME}:${registry.port}/ml`], project.root);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/answers in plain HTTP/);
    expect(r.stderr).toMatch(/insecure-registries/);
  });

  it("the same registry listed in the engine's insecure-registries: works without HELMET_INSECURE_REGISTRIES", async () => {
    engine = await startEngineWithInsecureRegistry(join(dir, 'engine'), `${PLAIN_NAME}:${registry.port}`);
    const r = await runWithEnv({ DOCKER_HOST: engine.host }, ['plan', '--push', `${PLAIN_NAME}:${registry.port}/ml`, '--json'], project.root);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).components[0]).toMatchObject({ state: 'needs-build' });
    const doctor = await runWithEnv({ DOCKER_HOST: engine.host }, ['doctor', '--push', `${PLAIN_NAME}:${registry.port}/ml`], project.root);
    expect(doctor.stdout + doctor.stderr).toMatch(/plain HTTP \(in the engine's insecure-registries\)/);
  });
});

/** A second dockerd (only its API is used: no builds) whose insecure-registries lists `registry`. */
async function startEngineWithInsecureRegistry(state: string, registry: string): Promise<{ host: string; stop: () => Promise<void> }> {
  const socket = join(state, 'docker.sock');
  const engine = spawnDockerd(state, ['--insecure-registry', registry, '-H', `unix://${socket}`]);
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('curl', ['-fsS', '--max-time', '1', '--unix-socket', socket, 'http://localhost/_ping'], { stdio: 'ignore' });
      return { host: `unix://${socket}`, stop: engine.stop };
    } catch {
      if (engine.process.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await engine.stop();
  throw new Error(`the dockerd with an insecure registry did not start; its log ends:\n${engine.log()}`);
}
