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
});
