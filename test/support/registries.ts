/**
 * Registries as companies run them, for tests: Debian's real `docker-registry` (distribution 2.8)
 * with TLS, client certificates or token auth, started on loopback ports with a config written
 * here; a small token issuer (RS256 JWTs with `x5c`, as Harbor's and Docker Hub's token services
 * sign them) that checks Basic credentials, grants only the scopes asked for and logs every request;
 * and /etc/hosts entries for names that are not loopback by name.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { closedPort } from './ports.js';

export interface RunningRegistry {
  port: number;
  stop(): Promise<void>;
}

/** Start `docker-registry serve` with `config` (YAML lines after version/storage/addr) on a free port of `host`. */
export async function startRegistry(dir: string, extraConfig: string, host = '127.0.0.1', tls?: { ca: string }): Promise<RunningRegistry> {
  const port = await closedPort();
  mkdirSync(join(dir, 'data'), { recursive: true });
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: {level: warn}',
      `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}`,
      `http:`,
      `  addr: "${addr}"`,
      extraConfig,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const stop = async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  };
  const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}/v2/`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const status = await probe(url, tls?.ca);
    if (status === 200 || status === 401) return { port, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`docker-registry did not start; its log ends:\n${log}`);
}

/** 200 or 401 when it answers HTTP; for TLS, listening is enough (a registry may require client certificates the probe has not). */
async function probe(url: string, ca?: string): Promise<number | undefined> {
  if (ca) {
    const { hostname, port } = new URL(url);
    const { connect } = await import('node:net');
    return new Promise((resolve) => {
      const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) }, () => {
        socket.destroy();
        resolve(200);
      });
      socket.on('error', () => resolve(undefined));
    });
  }
  const { request } = await import('node:http');
  return new Promise((resolve) => {
    const req = request(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

export interface TokenRequest {
  user?: string;
  service?: string;
  scopes: string[];
  granted: string[];
}

export interface TokenIssuer {
  realm: string;
  service: string;
  issuer: string;
  /** Every request the issuer answered, in order. */
  requests: TokenRequest[];
  stop(): Promise<void>;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/**
 * A token service for distribution's `auth: token`: Basic credentials of `users` are checked; an
 * authenticated user is granted exactly the actions it asked for on repositories under `allowed/`,
 * an unknown or anonymous one nothing (401). Signs with `keyPem`, whose certificate `certPem` is
 * also the registry's rootcertbundle.
 */
export async function startTokenIssuer(options: {
  users: Record<string, string>;
  allowedPrefix: string;
  certPem: string;
  keyPem: string;
}): Promise<TokenIssuer> {
  const service = 'helmet-registry';
  const issuer = 'helmet-token-issuer';
  const requests: TokenRequest[] = [];
  const key = createPrivateKey(options.keyPem);
  const der = new X509Certificate(options.certPem).raw.toString('base64');
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://issuer');
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [user, ...rest] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    const password = rest.join(':');
    const known = user !== undefined && options.users[user] === password;
    const record: TokenRequest = { ...(user !== undefined ? { user } : {}), service: url.searchParams.get('service') ?? undefined, scopes, granted: [] };
    requests.push(record);
    if (!known) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"wrong credentials"}');
      return;
    }
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      if (type !== 'repository' || !name || !actions || !name.startsWith(`${options.allowedPrefix}/`)) return [];
      record.granted.push(scope);
      return [{ type, name, actions: actions.split(',') }];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [der] }));
    const claims = b64url(
      JSON.stringify({ iss: issuer, sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }),
    );
    const signature = b64url(sign('sha256', Buffer.from(`${header}.${claims}`), key));
    const token = `${header}.${claims}.${signature}`;
    res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    realm: `http://127.0.0.1:${port}/service/token`,
    service,
    issuer,
    requests,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}

/**
 * Names in /etc/hosts for the duration of a test — in the engine's own root too when the tests run
 * against scripts/services.sh's Docker 26.1 (it resolves names from its Debian 13 root).
 */
export function addHostNames(entries: Record<string, string>): () => void {
  const marker = `# helmet-build test ${randomBytes(4).toString('hex')}`;
  const lines = Object.entries(entries)
    .map(([name, ip]) => `${ip} ${name} ${marker}\n`)
    .join('');
  const files = ['/etc/hosts'];
  const root = process.env.HELMET_MODERN_ENGINE_ROOT;
  if (root && existsSync(join(root, 'etc/hosts'))) files.push(join(root, 'etc/hosts'));
  for (const f of files) appendFileSync(f, lines);
  return () => {
    for (const f of files) {
      const kept = readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => !l.endsWith(marker))
        .join('\n');
      writeFileSync(f, kept);
    }
  };
}
