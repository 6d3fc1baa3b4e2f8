/** Signing keys: cosign's sealed key file and PEM PKCS#8 keys open; what cannot sign is exit 2 naming the file and the problem. */
import { generateKeyPairSync, randomBytes, scryptSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { loadSigningKey } from '../../src/sign/signing-key.js';
import { runCli, TINY_DOCKERFILE, tinyComponent, useProjects, withEnv } from '../support/project.js';

const dir = mkdtempSync(join(tmpdir(), 'helmet-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** A key sealed as cosign generate-key-pair seals one (small scrypt cost, for speed). */
function sealed(password: string): { path: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const secret = scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 });
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const ciphertext = nacl.secretbox(new Uint8Array(der), new Uint8Array(nonce), new Uint8Array(secret));
  const json = JSON.stringify({
    kdf: { name: 'scrypt', params: { N: 1024, r: 8, p: 1 }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  });
  const body = Buffer.from(json).toString('base64').replace(/.{64}/g, '$&\n');
  const path = file('cosign.key', `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${body}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`);
  return { path, publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('not refused');
}

describe('signing keys', () => {
  it("cosign's sealed key opens with its password and signs ECDSA-SHA256 signatures its public key verifies", () => {
    const { path, publicPem } = sealed('s3cret');
    const key = loadSigningKey(path, 's3cret');
    const payload = Buffer.from('{"critical":{}}');
    const signature = key.sign(payload);
    expect(verify('sha256', payload, publicPem, Buffer.from(signature, 'base64'))).toBe(true);
    expect(key.verifies(payload, signature)).toBe(true);
    expect(key.verifies(Buffer.from('other'), signature)).toBe(false);
  });

  it('a wrong or missing password is refused naming the file, never the password', () => {
    const { path } = sealed('s3cret');
    const wrong = refusal(() => loadSigningKey(path, 'guess-1234'));
    expect(wrong).toBe(`signing key ${path}: the password does not decrypt it`);
    expect(refusal(() => loadSigningKey(path, undefined))).toBe(`signing key ${path} is encrypted, and no password was given`);
  });

  it('PEM PKCS#8 keys: Ed25519 plain, ECDSA P-256 encrypted; RSA is refused as unsupported; a missing file names itself', () => {
    const ed = generateKeyPairSync('ed25519');
    const edKey = loadSigningKey(file('ed.pem', ed.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()), undefined);
    expect(verify(null, Buffer.from('x'), ed.publicKey, Buffer.from(edKey.sign(Buffer.from('x')), 'base64'))).toBe(true);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const encrypted = file('ec.pem', ec.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString());
    expect(loadSigningKey(encrypted, 'pw').verifies).toBeTypeOf('function');
    expect(refusal(() => loadSigningKey(encrypted, 'nope'))).toContain('the password does not decrypt it');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const rsaPath = file('rsa.pem', rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    expect(refusal(() => loadSigningKey(rsaPath, undefined))).toBe(`key ${rsaPath}: the key type is not supported (rsa)`);
    expect(refusal(() => loadSigningKey(join(dir, 'absent.key'), undefined))).toContain('cannot be read (ENOENT)');
  });
});

describe('the password of a --sign-key', () => {
  const projects = useProjects();

  it('comes from standard input when COSIGN_PASSWORD is unset: a wrong one is exit 2 before any registry is asked, the right one opens the key', async () => {
    const root = projects({ ...TINY_DOCKERFILE, ...tinyComponent('a', 'a', 'x') });
    const { path } = sealed('from-stdin');
    // A closed port: once the key is open, the lookup fails (exit 3), which shows the key was opened.
    const args = ['all', '--push', '127.0.0.1:9/ml', '--sign-key', path];
    const wrong = await withEnv({ COSIGN_PASSWORD: undefined, HELMET_REGISTRY_RETRIES: '0' }, () => runCli(args, root, 'not-it\n'));
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('the password does not decrypt it');
    expect(wrong.stderr).not.toContain('not-it');
    const right = await withEnv({ COSIGN_PASSWORD: undefined, HELMET_REGISTRY_RETRIES: '0' }, () => runCli(args, root, 'from-stdin\n'));
    expect(right.code, right.stderr).toBe(3);
  });
});
