/**
 * The key images are signed with, read once before anything is built: cosign's own key file
 * (`cosign generate-key-pair`: a PKCS#8 key sealed with NaCl secretbox under a scrypt-derived key,
 * PEM type `ENCRYPTED SIGSTORE PRIVATE KEY` or `ENCRYPTED COSIGN PRIVATE KEY`), or a PEM PKCS#8 key,
 * encrypted or not. ECDSA P-256 and Ed25519 keys sign; anything else, an unreadable file or a password
 * that does not open the key is exit 2, naming the file and what is wrong — never the password.
 */
import { createPrivateKey, createPublicKey, type KeyObject, scryptSync, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nacl from 'tweetnacl';
import { UsageError } from '../errors.js';

/** A public key that checks signatures as cosign makes them. */
export interface VerifyingKey {
  /** The key file, for messages. */
  file: string;
  /** Whether `signature` (base64) is this key's over `payload`. */
  verifies(payload: Buffer, signature: string): boolean;
}

export interface SigningKey extends VerifyingKey {
  /** The signature of `payload` as cosign makes it: ECDSA over its SHA-256 (DER), or Ed25519; base64. */
  sign(payload: Buffer): string;
}

/** A public key (cosign.pub, PEM SubjectPublicKeyInfo) to check signatures with; exit 2 naming the file when it is none. */
export function loadVerifyingKey(file: string): VerifyingKey {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is no public key helmet-build can read';
    throw new UsageError(`verifying key ${file} ${why}`, { hint: 'Give --key the public key of the signing key (cosign.pub).' });
  }
  return verifyingKeyOf(file, publicKey);
}

/** How a key of this type signs: the hash ECDSA P-256 signs over (null: Ed25519 signs the message). */
function digestOf(key: KeyObject, file: string): 'sha256' | null {
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (type === 'ec' && curve === 'prime256v1') return 'sha256';
  if (type === 'ed25519') return null;
  throw new UsageError(`key ${file}: the key type is not supported (${type}${curve ? ` ${curve}` : ''})`, {
    hint: 'Sign with an ECDSA P-256 key (cosign generate-key-pair makes one) or an Ed25519 key.',
  });
}

function verifyingKeyOf(file: string, publicKey: KeyObject): VerifyingKey {
  const digest = digestOf(publicKey, file);
  return {
    file,
    verifies: (payload, signature) => {
      try {
        return verify(digest, payload, publicKey, Buffer.from(signature, 'base64'));
      } catch {
        return false;
      }
    },
  };
}

const SEALED = /-----BEGIN (ENCRYPTED SIGSTORE|ENCRYPTED COSIGN) PRIVATE KEY-----([\s\S]*?)-----END \1 PRIVATE KEY-----/;

/** Whether the key at `file` is encrypted (asked before a password is read from anywhere); a file that cannot be read is left to `loadSigningKey` to report. */
export function keyNeedsPassword(file: string): boolean {
  try {
    const text = readFileSync(file, 'utf8');
    return SEALED.test(text) || text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
  } catch {
    return false;
  }
}

/** Read and open the key at `file`; `password` opens an encrypted one (COSIGN_PASSWORD). */
export function loadSigningKey(file: string, password: string | undefined): SigningKey {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`signing key ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, {
      hint: 'Give --sign-key the private key file cosign generate-key-pair wrote (cosign.key), or a PEM PKCS#8 key.',
    });
  }
  const sealed = SEALED.exec(text);
  const key = sealed ? openSealed(file, sealed[2]!, password) : readPem(file, text, password);
  return signingKeyOf(file, key);
}

function signingKeyOf(file: string, privateKey: KeyObject): SigningKey {
  const digest = digestOf(privateKey, file);
  return { ...verifyingKeyOf(file, createPublicKey(privateKey)), sign: (payload) => sign(digest, payload, privateKey).toString('base64') };
}

/** cosign's sealed key: JSON with the scrypt parameters, the secretbox nonce and the ciphertext of a PKCS#8 key. */
function openSealed(file: string, body: string, password: string | undefined): KeyObject {
  if (password === undefined) throw noPassword(file);
  let sealed: { kdf: { name: string; params: { N: number; r: number; p: number }; salt: string }; cipher: { name: string; nonce: string }; ciphertext: string };
  try {
    sealed = JSON.parse(Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8'));
  } catch {
    throw new UsageError(`signing key ${file} is damaged: its content is not cosign's sealed key`);
  }
  if (sealed.kdf?.name !== 'scrypt' || sealed.cipher?.name !== 'nacl/secretbox') {
    throw new UsageError(`signing key ${file}: sealed with ${sealed.kdf?.name}/${sealed.cipher?.name}, which is not supported (scrypt and nacl/secretbox are)`);
  }
  const { N, r, p } = sealed.kdf.params;
  const secret = scryptSync(password, Buffer.from(sealed.kdf.salt, 'base64'), 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  const opened = nacl.secretbox.open(
    new Uint8Array(Buffer.from(sealed.ciphertext, 'base64')),
    new Uint8Array(Buffer.from(sealed.cipher.nonce, 'base64')),
    new Uint8Array(secret),
  );
  if (!opened) throw wrongPassword(file);
  try {
    return createPrivateKey({ key: Buffer.from(opened), format: 'der', type: 'pkcs8' });
  } catch {
    throw new UsageError(`signing key ${file}: the sealed key is no PKCS#8 private key`);
  }
}

/** A PEM PKCS#8 private key, opened with the password when it is encrypted. */
function readPem(file: string, text: string, password: string | undefined): KeyObject {
  const encrypted = text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
  if (encrypted && password === undefined) throw noPassword(file);
  try {
    return createPrivateKey({ key: text, format: 'pem', ...(encrypted ? { passphrase: password } : {}) });
  } catch {
    if (encrypted) throw wrongPassword(file);
    throw new UsageError(`signing key ${file} is no private key helmet-build can read`, {
      hint: "Use cosign's key file (cosign generate-key-pair) or a PEM PKCS#8 key (-----BEGIN PRIVATE KEY-----).",
    });
  }
}

function noPassword(file: string): UsageError {
  return new UsageError(`signing key ${file} is encrypted, and no password was given`, {
    hint: 'Set COSIGN_PASSWORD to its password (cosign reads the same variable), or pipe it to standard input.',
  });
}

function wrongPassword(file: string): UsageError {
  return new UsageError(`signing key ${file}: the password does not decrypt it`, { hint: 'Check COSIGN_PASSWORD.' });
}
