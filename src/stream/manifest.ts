/**
 * Stream manifests (docs/templates.md, "Manifest"): what a cached stream
 * is, and an ed25519 signature over its canonical JSON. A client verifies
 * the signature against a pinned key, then the sha-256 and size of the
 * bytes it received, before a received subvolume is kept.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { TrowelError } from '../errors.ts';
import { canonicalJson } from './canonical-json.ts';
import { keyIdOf, type SigningKey } from './keys.ts';

export const MANIFEST_FORMAT = 'trowel.manifest/1';

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  name: string;
  arch: string;
  version: string;
  /** The version this stream is incremental from, or null for a full stream. */
  parent: string | null;
  compression: 'zstd';
  /** Bytes of the `btrfs send` stream. */
  uncompressedSize: number;
  /** Bytes of the cached file, and of the HTTP body. */
  compressedSize: number;
  /** Lowercase hex sha-256 of the compressed bytes. */
  sha256: string;
  createdAt: string;
}

export interface SignedManifest {
  manifest: Manifest;
  keyId: string;
  /** Base64 ed25519 signature over canonicalJson(manifest). */
  signature: string;
}

export function signManifest(manifest: Manifest, key: SigningKey): SignedManifest {
  const signature = sign(null, Buffer.from(canonicalJson(manifest), 'utf8'), key.privateKey);
  return { manifest, keyId: key.keyId, signature: signature.toString('base64') };
}

/**
 * Checks the signature with `publicKey`, then the manifest's shape, and
 * returns the manifest. Throws TrowelError EBADSIG when the signature does
 * not verify (tampered field, other key) and EBADMANIFEST when the document
 * is not a signed manifest at all.
 */
export function verifyManifest(signed: unknown, publicKey: KeyObject): Manifest {
  if (!isRecord(signed) || !isRecord(signed.manifest) || typeof signed.signature !== 'string' || typeof signed.keyId !== 'string') {
    throw new TrowelError('EBADMANIFEST', 'Cannot verify the manifest: it is not a signed trowel manifest');
  }
  const expected = keyIdOf(publicKey);
  // keyId is not covered by the signature; it only makes the error say which key was used.
  if (signed.keyId !== expected) {
    throw new TrowelError('EBADSIG', `Cannot verify the manifest: it is signed with key ${signed.keyId}, not the pinned key ${expected}`);
  }
  let text: string;
  try {
    text = canonicalJson(signed.manifest);
  } catch (e) {
    throw new TrowelError('EBADMANIFEST', 'Cannot verify the manifest: it holds values JSON cannot carry', { cause: e });
  }
  const signature = Buffer.from(signed.signature, 'base64');
  if (signature.length !== 64 || !verify(null, Buffer.from(text, 'utf8'), publicKey, signature)) {
    throw new TrowelError('EBADSIG', `Cannot verify the manifest: its signature does not match key ${expected}`);
  }
  return parseManifest(signed.manifest);
}

/** Shape check of an (already verified) manifest. */
export function parseManifest(value: unknown): Manifest {
  const bad = (what: string) => new TrowelError('EBADMANIFEST', `Cannot read the manifest: ${what}`);
  if (!isRecord(value)) throw bad('it is not an object');
  if (value.format !== MANIFEST_FORMAT) throw bad(`format is ${JSON.stringify(value.format)}, expected "${MANIFEST_FORMAT}"`);
  for (const field of ['name', 'arch', 'version', 'createdAt'] as const) {
    if (typeof value[field] !== 'string' || value[field] === '') throw bad(`${field} is not a non-empty string`);
  }
  if (value.parent !== null && (typeof value.parent !== 'string' || value.parent === '')) throw bad('parent is neither null nor a version');
  if (value.compression !== 'zstd') throw bad(`compression is ${JSON.stringify(value.compression)}, expected "zstd"`);
  for (const field of ['uncompressedSize', 'compressedSize'] as const) {
    const n = value[field];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw bad(`${field} is not a byte count`);
  }
  if (typeof value.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(value.sha256)) throw bad('sha256 is not 64 lowercase hex digits');
  return value as unknown as Manifest;
}

/** @private */
function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
