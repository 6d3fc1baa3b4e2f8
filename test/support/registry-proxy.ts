import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What to do with one request: answer it with a status, drop the connection, forward it after a
 * delay, or forward it and replace headers of the answer (a lying cache).
 */
export type Fault = { status: number } | { reset: true } | { delayMs: number } | { answerHeaders: Record<string, string> } | undefined;

/**
 * A loopback HTTP proxy in front of the real registry, for fault tests: `fault` decides per request
 * whether to answer it itself or pass it on (after an optional delay). Everything else is forwarded
 * untouched, so the engine and helmet-build talk to the real registry through it. It speaks plain
 * HTTP only, and counts the TLS handshakes clients try on it first.
 */
export async function registryProxy(upstream: string, fault: (req: IncomingMessage) => Fault = () => undefined) {
  const [upHost, upPort] = upstream.split(':') as [string, string];
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const f = fault(req);
    if (f && 'status' in f) {
      req.resume();
      res
        .writeHead(f.status, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'injected by the test proxy' }] }));
      return;
    }
    if (f && 'reset' in f) {
      req.socket.destroy();
      return;
    }
    const forward = () => {
      const headers = { ...req.headers, host: upstream };
      const out = request({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers }, (up) => {
        // Locations point at the upstream registry; keep the client on the proxy.
        const location = up.headers.location?.replace(`//${upstream}`, `//${host}`);
        const replaced = f && 'answerHeaders' in f ? f.answerHeaders : {};
        res.writeHead(up.statusCode ?? 502, { ...up.headers, ...(location ? { location } : {}), ...replaced });
        up.pipe(res);
      });
      out.on('error', () => res.writeHead(502).end());
      req.pipe(out);
    };
    if (f && 'delayMs' in f) setTimeout(forward, f.delayMs);
    else forward();
  });
  // A TLS ClientHello (first byte 0x16) is no HTTP: count it, and answer as any plain-HTTP server does.
  let tlsHellos = 0;
  server.on('clientError', (err: Error & { rawPacket?: Buffer }, socket) => {
    if (err.rawPacket?.[0] === 0x16) tlsHellos++;
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    seen,
    /** Connections that opened with a TLS handshake, which this plain-HTTP proxy refused. */
    tlsHellos: () => tlsHellos,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
