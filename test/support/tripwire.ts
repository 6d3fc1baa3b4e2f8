import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

/** A loopback port that counts every connection: an engine or registry that must never be called. */
export async function tripwire(): Promise<{ port: number; connections: () => number; close: () => void }> {
  let count = 0;
  const server: Server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, connections: () => count, close: () => server.close() };
}

/**
 * For a describe block: DOCKER_HOST points at a tripwire engine, and a tripwire registry address is
 * at hand, both counting connections; restored afterwards.
 */
export function useTripwires(): { registryPort: () => number; connections: () => number } {
  let engine: Awaited<ReturnType<typeof tripwire>>;
  let registry: Awaited<ReturnType<typeof tripwire>>;
  const savedHost = process.env.DOCKER_HOST;
  beforeAll(async () => {
    engine = await tripwire();
    registry = await tripwire();
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${engine.port}`;
  });
  afterAll(() => {
    if (savedHost === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = savedHost;
    engine.close();
    registry.close();
  });
  return { registryPort: () => registry.port, connections: () => engine.connections() + registry.connections() };
}
