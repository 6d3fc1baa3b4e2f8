/**
 * A loopback registry is tried over TLS first, as dockerd does; a project remembers the registries
 * that answered in plain HTTP, so its next runs skip the handshake. Proven with the real registry
 * behind a TCP relay that counts TLS hellos, each run a real `node bin/helmet-build.js` process (a
 * process of its own, so no connection outlives a run): the first run says hello, the next does not;
 * and when the registry behind the same address turns to TLS, the remembered plain HTTP is answered
 * with 400, forgotten, and the run goes on over verified TLS.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCa, signed } from '../support/certs.js';
import { makeProject, TINY_DOCKERFILE, tinyComponent } from '../support/project.js';
import { type RunningRegistry, startRegistry } from '../support/registries.js';
import { uniqueName } from '../support/services.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'helmet-build.js');

/** A TCP relay on a loopback port to `upstream()`'s port, counting the connections that open with a TLS hello. */
async function helloCountingRelay(upstream: () => number): Promise<{ port: number; hellos: () => number; close: () => Promise<void> }> {
  let hellos = 0;
  const server: Server = createServer((client) => {
    client.once('data', (first: Buffer) => {
      if (first[0] === 0x16) hellos++;
      const target = createConnection({ host: '127.0.0.1', port: upstream() }, () => {
        target.write(first);
        client.pipe(target).pipe(client);
      });
      const end = () => (client.destroy(), target.destroy());
      target.on('error', end);
      client.on('error', end);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { port, hellos: () => hellos, close: () => new Promise((r) => server.close(() => r())) };
}

describe('registries remembered as plain HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'helmet-transports-'));
  const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('hello', uniqueName('itest-transport'), 'hello') });
  const memoryFile = join(project.root, '.helmet-cache', 'registry-transports.json');
  let plain: RunningRegistry;
  let tls: RunningRegistry;
  let behind: () => number;
  let relay: Awaited<ReturnType<typeof helloCountingRelay>>;
  const dockerConfig = join(dir, 'docker-config');

  beforeAll(async () => {
    makeCa(join(dir, 'ca'), 'helmet transport CA');
    signed(join(dir, 'ca'), join(dir, 'server'), 'server', '127.0.0.1', 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n');
    const ca = readFileSync(join(dir, 'ca/ca.pem'), 'utf8');
    plain = await startRegistry(join(dir, 'plain'), '');
    tls = await startRegistry(
      join(dir, 'tls'),
      `  tls: {certificate: ${join(dir, 'server/server.pem')}, key: ${join(dir, 'server/server-key.pem')}}`,
      '127.0.0.1',
      { ca },
    );
    behind = () => plain.port;
    relay = await helloCountingRelay(() => behind());
    const certs = join(dockerConfig, 'certs.d', `127.0.0.1:${relay.port}`);
    mkdirSync(certs, { recursive: true });
    writeFileSync(join(certs, 'ca.crt'), ca);
  });

  afterAll(async () => {
    await relay?.close();
    await plain?.stop();
    await tls?.stop();
    project.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const plan = async () => {
    const r = await execa('node', [BIN, '-C', project.root, 'plan', '--push', `127.0.0.1:${relay.port}/ml`, '--json'], {
      env: { ...process.env, DOCKER_CONFIG: dockerConfig, HELMET_INSECURE_REGISTRIES: '' },
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    return JSON.parse(r.stdout).components[0].state as string;
  };

  it('the first run says hello once and learns plain HTTP; the next run speaks HTTP at once', async () => {
    expect(await plan()).toBe('needs-build');
    expect(relay.hellos()).toBe(1);
    expect(JSON.parse(readFileSync(memoryFile, 'utf8')).plainHttp).toEqual([`127.0.0.1:${relay.port}`]);
    expect(await plan()).toBe('needs-build');
    expect(relay.hellos()).toBe(1);
  });

  it('the registry behind the address turns to TLS: the remembered HTTP is dropped and the run goes on over verified TLS', async () => {
    behind = () => tls.port;
    const before = relay.hellos();
    expect(await plan()).toBe('needs-build');
    expect(relay.hellos()).toBeGreaterThan(before);
    expect(JSON.parse(readFileSync(memoryFile, 'utf8')).plainHttp).toEqual([]);
  });
});
