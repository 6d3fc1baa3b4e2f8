import { afterAll, describe, expect, it } from 'vitest';
import { closedPort } from '../support/ports.js';
import { makeProject, runCli, TINY_DOCKERFILE, tinyComponent } from '../support/project.js';

describe('engine or registry unreachable: exit 3 with what to do', () => {
  const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('hello', 'hello', 'hi') });
  const savedHost = process.env.DOCKER_HOST;
  afterAll(() => {
    process.env.DOCKER_HOST = savedHost;
    project.cleanup();
  });

  it('no engine at DOCKER_HOST', async () => {
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    const r = await runCli(['all'], project.root);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cannot reach the Docker engine at unix:///nonexistent/docker.sock');
    expect(r.stderr).toContain('hint: Start a Docker engine, or point DOCKER_HOST at one (helmet-build doctor says what it finds there).');
  });

  it('no registry at the --push address', async () => {
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    const port = await closedPort();
    const r = await runCli(['all', '--push', `127.0.0.1:${port}/x`], project.root);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`cannot reach registry 127.0.0.1:${port}: ECONNREFUSED`);
  });
});
