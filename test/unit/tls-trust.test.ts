/**
 * One secure context per trust set: the same certificates give the same context object (so agents
 * never parse the system roots again per socket), and a context trusts exactly what it was made
 * with, checked by real TLS handshakes on loopback with certificates made by openssl.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extraCasOfEnv, isUntrustedCertificate, secureContextFor, type TlsTrust } from '../../src/tls/tls-trust.js';
import { makeCa, signed } from '../support/certs.js';

describe('secure contexts per trust set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'helmet-tls-trust-'));
  let server: Server;
  let port = 0;
  let ca = '';
  beforeAll(async () => {
    makeCa(join(dir, 'ca'), 'helmet test CA');
    signed(join(dir, 'ca'), join(dir, 'server'), 'server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    ca = readFileSync(join(dir, 'ca/ca.pem'), 'utf8');
    server = createServer({ cert: readFileSync(join(dir, 'server/server.pem')), key: readFileSync(join(dir, 'server/server-key.pem')) }, (s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The handshake's outcome with a trust set: 'trusted', or the error code. */
  function handshake(trust: TlsTrust): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext: secureContextFor(trust) }, () => {
        socket.destroy();
        resolve('trusted');
      });
      socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
  }

  it('the same certificates give the same context object, made once', () => {
    const first = secureContextFor({ extraCas: [ca] });
    expect(secureContextFor({ extraCas: [`${ca}`] })).toBe(first);
    expect(secureContextFor({ extraCas: [] })).toBe(secureContextFor({ extraCas: [] }));
    expect(secureContextFor({ extraCas: [] })).not.toBe(first);
  });

  it('trusts a server signed by an extra CA, and refuses it with the system roots alone', async () => {
    expect(await handshake({ extraCas: [ca] })).toBe('trusted');
    const refused = await handshake({ extraCas: [] });
    expect(isUntrustedCertificate(refused)).toBe(true);
  });

  it('NODE_EXTRA_CA_CERTS is read when it names another file than the process started with', () => {
    const file = join(dir, 'extra.pem');
    writeFileSync(file, ca);
    expect(extraCasOfEnv({ NODE_EXTRA_CA_CERTS: file })).toEqual([ca]);
    expect(extraCasOfEnv({})).toEqual([]);
    expect(extraCasOfEnv({ NODE_EXTRA_CA_CERTS: join(dir, 'missing.pem') })).toEqual([]);
  });
});
