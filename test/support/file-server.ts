import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server of fixed files (path -> bytes), 404 for anything else: a data set's download site for pipeline runs. */
export async function serveFiles(files: Record<string, Buffer>): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    const body = files[req.url ?? ''];
    if (body) res.writeHead(200, { 'Content-Length': body.length }).end(body);
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}
