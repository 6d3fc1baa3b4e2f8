import { createServer, type Server } from 'node:net';

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
