import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runCli, TINY_DOCKERFILE, tinyComponent } from '../support/project.js';

/**
 * A loopback TCP proxy in front of the real engine's socket that drops the first `drops`
 * connections, as a restarting engine or a flaky network path to a remote one would.
 */
async function flakyEngine(socketPath: string, drops: number): Promise<{ host: string; dropped: () => number; close: () => Promise<void> }> {
  let dropped = 0;
  const server: Server = createServer((client) => {
    if (dropped < drops) {
      dropped++;
      client.resetAndDestroy();
      return;
    }
    const engine = connect(socketPath);
    client.pipe(engine).pipe(client);
    const end = () => {
      client.destroy();
      engine.destroy();
    };
    client.on('error', end);
    engine.on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { host: `tcp://127.0.0.1:${port}`, dropped: () => dropped, close: () => new Promise((r) => server.close(() => r())) };
}

describe('engine faults', () => {
  const saved = process.env.DOCKER_HOST;
  const socket = (saved ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');
  const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('steady', 'steady', 'steady') });
  beforeAll(() => {
    expect(saved?.startsWith('unix://') ?? true).toBe(true);
  });
  afterAll(() => {
    process.env.DOCKER_HOST = saved;
    project.cleanup();
  });

  it('a dropped connection on a lookup is tried again: the plan succeeds', async () => {
    const proxy = await flakyEngine(socket, 1);
    try {
      process.env.DOCKER_HOST = proxy.host;
      const r = await runCli(['plan'], project.root);
      expect(r.code, r.stderr).toBe(0);
      expect(proxy.dropped()).toBe(1);
      expect(r.stderr).toMatch(/1 needs-build/);
    } finally {
      process.env.DOCKER_HOST = saved;
      await proxy.close();
    }
  });

  it('an engine that keeps dropping connections: exit 3 within the retry budget, naming the address', async () => {
    const proxy = await flakyEngine(socket, 1000);
    try {
      process.env.DOCKER_HOST = proxy.host;
      const t0 = Date.now();
      const r = await runCli(['all'], project.root);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(proxy.host);
      expect(proxy.dropped()).toBeGreaterThan(1);
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      process.env.DOCKER_HOST = saved;
      await proxy.close();
    }
  });
});
