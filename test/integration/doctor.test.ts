import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, runCli, TINY_DOCKERFILE, TINY_PIPELINE, tinyComponent } from '../support/project.js';
import { services } from '../support/services.js';

describe('helmet-build doctor', () => {
  const project = makeProject({
    ...TINY_DOCKERFILE,
    ...tinyComponent('hello', 'hello', 'hi'),
    ...tinyComponent('world', 'world', 'hi'),
    'pipeline.yaml': TINY_PIPELINE,
  });
  const emptyConfig = mkdtempSync(join(tmpdir(), 'helmet-doctor-cfg-'));
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
    project.cleanup();
    rmSync(emptyConfig, { recursive: true, force: true });
  });

  it('reports the project, the real engine and an authenticated registry, naming where credentials came from but not them', async () => {
    process.env.DOCKER_CONFIG = emptyConfig;
    process.env.HELMET_REGISTRY_USER = services.authUser;
    process.env.HELMET_REGISTRY_PASSWORD = services.authPassword;
    const r = await runCli(['doctor', '--push', `${services.authRegistry}/doctor`], project.root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok {3}project {2}.*2 component\(s\), 2 built here; pipeline tiny with 2 step\(s\)$/m);
    expect(r.stdout).toMatch(/^ok {3}engine {3}Docker \S+ \(API 1\.\d+\).*; builds with BuildKit/m);
    expect(r.stdout).toContain('credentials: from HELMET_REGISTRY_USER/HELMET_REGISTRY_PASSWORD');
    expect(r.stdout).not.toContain(services.authPassword);
  });

  it('fails the registry check without credentials, with a hint, exit 1', async () => {
    process.env.DOCKER_CONFIG = emptyConfig;
    delete process.env.HELMET_REGISTRY_USER;
    delete process.env.HELMET_REGISTRY_PASSWORD;
    const r = await runCli(['doctor', '--push', `${services.authRegistry}/doctor`], project.root);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL registry registry .* requires credentials and none were found$/m);
    expect(r.stdout).toContain('hint: Run docker login');
  });

  it('with engines: one line per engine, naming its native platforms and what this machine emulates; one that does not answer fails its own line', async () => {
    const modern = process.env.HELMET_MODERN_DOCKER_HOST;
    if (!modern) throw new Error('HELMET_MODERN_DOCKER_HOST is not set: start the services with scripts/services.sh up');
    const withEngines = makeProject({
      ...TINY_DOCKERFILE,
      ...tinyComponent('hello', 'hello', 'hi'),
      'helmet-build.yaml': `engines:\n  - {host: "${modern}", platforms: [linux/amd64], builds: 3}\n  - {host: "unix:///nonexistent/docker.sock", platforms: [linux/arm64]}\n`,
    });
    try {
      const r = await runCli(['doctor'], withEngines.root);
      expect(r.code).toBe(3);
      const line = r.stdout.split('\n').find((l) => l.includes(`engine ${modern}`));
      expect(line).toMatch(/^ok +engine \S+ +Docker 26\.1\.\d+\S* .*builds natively linux\/amd64, 3 at once$/);
      // scripts/services.sh registers QEMU's handlers on this machine's kernel.
      expect(line).toMatch(/; emulates [^;]*linux\/arm64/);
      expect(r.stdout).toMatch(/^FAIL engine unix:\/\/\/nonexistent\/docker\.sock .*cannot reach the Docker engine at unix:\/\/\/nonexistent\/docker\.sock/m);
    } finally {
      withEngines.cleanup();
    }
  });
});
