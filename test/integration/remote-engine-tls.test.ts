import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runCli } from '../support/project.js';
import { registryDigest, services, uniqueName } from '../support/services.js';
import { startTlsEngine, type TlsEngine } from '../support/tls-engine.js';

/** A remote engine as CI runners meet it: DOCKER_HOST=tcp://…, DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH. */
describe('a remote engine over mutual TLS (a second real dockerd on a loopback port)', () => {
  let engine: TlsEngine;
  const prefix = uniqueName('itest-tls');
  const project = makeProject({
    // No base image: the second engine starts empty.
    'dockerfiles/plain.Dockerfile': 'FROM scratch\nCOPY message.txt /message.txt\n',
    'components/remote/component.yaml':
      'name: remote\nimplementation:\n  container:\n    command: [cat, /message.txt]\nbuild: {image: remote, dockerfile: dockerfiles/plain.Dockerfile}\n',
    'components/remote/message.txt': 'built far away\n',
  });
  const saved = { ...process.env };
  const useEngine = (vars: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };

  beforeAll(async () => {
    engine = await startTlsEngine();
  }, 60_000);
  afterAll(async () => {
    for (const k of ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await engine?.stop();
    project.cleanup();
  }, 60_000);

  it('builds and pushes through it; the spec pins the registry digest', async () => {
    useEngine({ DOCKER_HOST: engine.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: engine.goodCerts });
    const r = await runCli(['all', '--push', `${services.registry}/${prefix}`], project.root);
    expect(r.code, r.stderr).toBe(0);
    const entry = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components.remote;
    expect(entry.action).toBe('pushed');
    expect(entry.digest).toBe(await registryDigest(services.registry, `${prefix}/remote`, entry.tags[0]));
  });

  it('a CA that did not sign the engine: exit 3, naming the endpoint and the cause', async () => {
    useEngine({ DOCKER_HOST: engine.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: engine.wrongCa });
    const r = await runCli(['build', 'remote', '--no-cache'], project.root);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(engine.host);
    expect(r.stderr).toMatch(/TLS certificate is not trusted/);
  });

  it('a client certificate from another CA: exit 3, the engine refused it', async () => {
    useEngine({ DOCKER_HOST: engine.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: engine.foreignClient });
    const r = await runCli(['build', 'remote', '--no-cache'], project.root);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(engine.host);
    expect(r.stderr).toMatch(/refused the client certificate/);
  });

  it('plain HTTP where the engine expects TLS: exit 3, saying to set DOCKER_TLS_VERIFY', async () => {
    useEngine({ DOCKER_HOST: engine.host, DOCKER_TLS_VERIFY: undefined, DOCKER_CERT_PATH: undefined });
    const r = await runCli(['build', 'remote', '--no-cache'], project.root);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(engine.host);
    expect(r.stderr).toMatch(/expects TLS/);
  });

  it('DOCKER_TLS_VERIFY with a folder lacking the client files: exit 2 before any connection', async () => {
    useEngine({ DOCKER_HOST: engine.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: join(project.root, 'components') });
    const r = await runCli(['build', 'remote', '--no-cache'], project.root);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/DOCKER_TLS_VERIFY is set, but .*ca\.pem does not exist/);
  });
});
