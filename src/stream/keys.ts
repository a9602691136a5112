/**
 * The server's ed25519 signing key: created once by `trowel keys init`,
 * loaded by `trowel serve` to sign stream manifests, and pinned by clients
 * either as a PEM file or as the base64 of its SPKI DER (short enough for a
 * kernel command line: `trowel.key=`). The key id is the first 16 hex digits
 * of sha256(SPKI DER): it names a key in logs and manifests, it proves nothing.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrowelError } from '../errors.ts';

export const KEYS_DIR = 'keys';
export const SIGNING_KEY_FILE = 'signing.key';
export const PUBLIC_KEY_FILE = 'signing.pub';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

export interface KeyFiles {
  keyId: string;
  privateKeyPath: string;
  publicKeyPath: string;
}

const INIT_HINT = 'run "trowel keys init" on the server first';

export function keyPaths(stateDir: string): { privateKeyPath: string; publicKeyPath: string } {
  const dir = join(stateDir, KEYS_DIR);
  return { privateKeyPath: join(dir, SIGNING_KEY_FILE), publicKeyPath: join(dir, PUBLIC_KEY_FILE) };
}

/**
 * Creates a new key pair under `<stateDir>/keys`. Refuses to replace an
 * existing key unless `force`: clients that pinned it would reject every
 * manifest signed afterwards.
 */
export async function initKeys(stateDir: string, options: { force?: boolean } = {}): Promise<KeyFiles> {
  const { privateKeyPath, publicKeyPath } = keyPaths(stateDir);
  if (!options.force && (await exists(privateKeyPath))) {
    throw new TrowelError('EKEYEXISTS', `Cannot create the signing key: ${privateKeyPath} already exists`, {
      hint: 'use --force to rotate it; clients pinning the old key will then refuse new manifests',
    });
  }
  await mkdir(join(stateDir, KEYS_DIR), { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // The private key goes first: the public file is derived from it and can be rewritten at any time.
  await writeAtomically(privateKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
  await writeAtomically(publicKeyPath, publicKeyPem(publicKey), 0o644);
  return { keyId: keyIdOf(publicKey), privateKeyPath, publicKeyPath };
}

/** The private key and its public half; the public half is derived, so a stale .pub file cannot mislead. */
export async function loadSigningKey(stateDir: string): Promise<SigningKey> {
  const { privateKeyPath } = keyPaths(stateDir);
  const pem = await readKeyFile(privateKeyPath, 'signing key');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (e) {
    throw new TrowelError('EBADKEY', `Cannot load the signing key: ${privateKeyPath} is not a PEM private key`, { cause: e });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TrowelError('EBADKEY', `Cannot load the signing key: ${privateKeyPath} is ${privateKey.asymmetricKeyType}, not ed25519`);
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** The server's public key from `<stateDir>/keys/signing.pub` (readable without root). */
export async function loadPublicKey(stateDir: string): Promise<KeyObject> {
  return readPublicKeyFile(keyPaths(stateDir).publicKeyPath);
}

/** A pinned public key from a file holding a PEM or the base64 of an SPKI DER (`--key FILE`). */
export async function readPublicKeyFile(path: string): Promise<KeyObject> {
  return parsePublicKey(await readKeyFile(path, 'public key'), path);
}

/** An ed25519 public key from an SPKI PEM or from the base64 of its DER (`trowel.key=`). */
export function parsePublicKey(pemOrBase64Der: string | Buffer, source = 'the public key'): KeyObject {
  const text = (typeof pemOrBase64Der === 'string' ? pemOrBase64Der : pemOrBase64Der.toString('utf8')).trim();
  let key: KeyObject;
  try {
    if (text.includes('-----BEGIN')) {
      key = createPublicKey(text);
    } else {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new Error('not base64');
      key = createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
    }
  } catch (e) {
    throw new TrowelError('EBADKEY', `Cannot read ${source}: it is neither an SPKI PEM nor base64 SPKI DER`, { cause: e });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TrowelError('EBADKEY', `Cannot read ${source}: it is ${key.asymmetricKeyType}, not ed25519`);
  }
  return key;
}

/** First 16 hex digits of sha256 over the SPKI DER. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(spkiDer(publicKey)).digest('hex').slice(0, 16);
}

/** The form for `trowel.key=` on a kernel command line. */
export function publicKeyBase64(publicKey: KeyObject): string {
  return spkiDer(publicKey).toString('base64');
}

export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'pem' }) as string;
}

/** @private */
function spkiDer(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

/** @private */
async function readKeyFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TrowelError('ENOKEY', `Cannot load the ${what}: ${path} does not exist`, { hint: INIT_HINT, cause: e });
    if (code === 'EACCES') throw new TrowelError('EACCES', `Cannot load the ${what}: ${path} is not readable by this user`, { cause: e });
    throw e;
  }
}

/** @private Temp file with its final mode, then rename: a crash never leaves half a key. */
async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temp, content, { mode, flag: 'w' });
    await chmod(temp, mode); // the umask may have narrowed it (0644 for the public key)
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

/** @private */
async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
