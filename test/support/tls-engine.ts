/**
 * A second, real dockerd for remote-engine tests, listening on a loopback TCP port with mutual TLS.
 * The certificates are made here with openssl: a CA, a server certificate for 127.0.0.1, a client
 * certificate, and a client certificate from another CA. Stopped and removed by `stop()`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, signed } from './certs.js';
import { closedPort } from './ports.js';

/** A DOCKER_CERT_PATH folder: ca.pem to trust, cert.pem/key.pem to present. */
function clientDir(dir: string, ca: string, cert: string, key: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ca.pem'), readFileSync(ca));
  writeFileSync(join(dir, 'cert.pem'), readFileSync(cert));
  writeFileSync(join(dir, 'key.pem'), readFileSync(key));
  return dir;
}

export interface TlsEngine {
  host: string;
  /** Client files the engine accepts. */
  goodCerts: string;
  /** Trusts another CA than the one that signed the engine. */
  wrongCa: string;
  /** Trusts the engine, but presents a client certificate from another CA. */
  foreignClient: string;
  stop(): Promise<void>;
}

/**
 * The Debian 13 root of scripts/services.sh when the tests run against its Docker 26.1
 * (DOCKER_HOST is HELMET_MODERN_DOCKER_HOST): the second dockerd is then that engine too, run in the
 * root, whose /tmp is the host's. Undefined for the host's own dockerd.
 */
function modernEngineRoot(): string | undefined {
  const { DOCKER_HOST, HELMET_MODERN_DOCKER_HOST, HELMET_MODERN_ENGINE_ROOT } = process.env;
  return DOCKER_HOST && DOCKER_HOST === HELMET_MODERN_DOCKER_HOST ? HELMET_MODERN_ENGINE_ROOT : undefined;
}

export async function startTlsEngine(): Promise<TlsEngine> {
  const chrootDir = modernEngineRoot();
  // In /tmp itself for the root's dockerd: the same paths name the same files inside and outside it.
  const root = mkdtempSync(join(chrootDir ? '/tmp' : tmpdir(), 'helmet-tls-'));
  makeCa(join(root, 'ca'), 'helmet test CA');
  makeCa(join(root, 'other-ca'), 'another CA');
  signed(join(root, 'ca'), join(root, 'server'), 'server', '127.0.0.1', 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n');
  signed(join(root, 'ca'), join(root, 'client'), 'client', 'client', 'extendedKeyUsage = clientAuth\n');
  signed(join(root, 'other-ca'), join(root, 'foreign'), 'client', 'client', 'extendedKeyUsage = clientAuth\n');
  const goodCerts = clientDir(join(root, 'good'), join(root, 'ca/ca.pem'), join(root, 'client/client.pem'), join(root, 'client/client-key.pem'));
  const wrongCa = clientDir(join(root, 'wrong-ca'), join(root, 'other-ca/ca.pem'), join(root, 'client/client.pem'), join(root, 'client/client-key.pem'));
  const foreignClient = clientDir(
    join(root, 'foreign-client'),
    join(root, 'ca/ca.pem'),
    join(root, 'foreign/client.pem'),
    join(root, 'foreign/client-key.pem'),
  );

  const port = await closedPort();
  const state = join(root, 'engine');
  const engine = spawnDockerd(
    state,
    [
      '--tlsverify',
      '--tlscacert',
      join(root, 'ca/ca.pem'),
      '--tlscert',
      join(root, 'server/server.pem'),
      '--tlskey',
      join(root, 'server/server-key.pem'),
      '-H',
      `tcp://127.0.0.1:${port}`,
    ],
    chrootDir,
  );
  const { process: dockerd } = engine;
  const stop = async () => {
    await engine.stop();
    rmSync(root, { recursive: true, force: true });
  };
  const cert = (n: string) => readFileSync(join(goodCerts, n));
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/_ping', ca: cert('ca.pem'), cert: cert('cert.pem'), key: cert('key.pem'), timeout: 1000 },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        },
      );
      req.on('error', () => resolve(false));
      req.end();
    });
    if (ok) return { host: `tcp://127.0.0.1:${port}`, goodCerts, wrongCa, foreignClient, stop };
    if (dockerd.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`the TLS dockerd did not start; its log ends:\n${engine.log()}`);
}

/**
 * A dockerd for a test (vfs, no bridge, no iptables) with its state under `state` and `args` of its
 * own (-H, TLS, insecure registries); from `chrootDir` when given. `stop` also unmounts what it left.
 */
export function spawnDockerd(state: string, args: string[], chrootDir?: string): { process: ChildProcess; log: () => string; stop: () => Promise<void> } {
  mkdirSync(state, { recursive: true });
  const dockerd: ChildProcess = spawn(
    chrootDir ? 'chroot' : 'dockerd',
    [
      ...(chrootDir ? [chrootDir, 'dockerd'] : []),
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      '--storage-driver=vfs',
      '--data-root',
      join(state, 'data'),
      '--exec-root',
      join(state, 'exec'),
      '--pidfile',
      join(state, 'dockerd.pid'),
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  dockerd.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => dockerd.on('exit', () => resolve()));
  const stop = async () => {
    dockerd.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (dockerd.exitCode === null) dockerd.kill('SIGKILL');
    // dockerd leaves its network namespace mounted under exec-root; unmount before removing.
    // The root's dockerd mounts through the root: the host sees those mounts under it.
    for (const dir of chrootDir ? [state, join(chrootDir, state)] : [state]) {
      try {
        execFileSync('sh', ['-c', `grep -o ' ${dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' });
      } catch {
        // nothing mounted
      }
    }
  };
  return { process: dockerd, log: () => log, stop };
}
