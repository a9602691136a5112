import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf, type SigningKey } from './keys.ts';
import { MANIFEST_FORMAT, parseManifest, signManifest, verifyManifest, type Manifest } from './manifest.ts';

// RFC 8032 §7.1 TEST 1 secret key, as PKCS#8 PEM (made with `openssl pkey`).
const RFC8032_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g
-----END PRIVATE KEY-----
`;

function rfcKey(): SigningKey {
  const privateKey = createPrivateKey(RFC8032_KEY_PEM);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

function otherKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

const MANIFEST: Manifest = {
  format: MANIFEST_FORMAT,
  name: 'org.example.Desktop',
  arch: 'x86_64',
  version: '20261122T023710Z',
  parent: null,
  compression: 'zstd',
  uncompressedSize: 104857600,
  compressedSize: 31457280,
  sha256: '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03',
  createdAt: '2026-11-22T02:37:11.000Z',
};

describe('signManifest', () => {
  it('signs the canonical JSON with ed25519, as openssl does', () => {
    // printf '%s' '<canonical JSON>' | openssl pkeyutl -sign -inkey rfc8032-test1.pem -rawin | base64
    const signed = signManifest(MANIFEST, rfcKey());
    expect(signed).toEqual({
      manifest: MANIFEST,
      keyId: '06e3fd8fda29bb60',
      signature: 'joPBzqIweQbuWEdtXDFiboMERtiR0Z865LjaUqeR6Xnw4rs/yXcdeTRsKyKdRLmD+04FHlz7q/9SKkvPFzQeDA==',
    });
  });
});

describe('verifyManifest', () => {
  const key = rfcKey();

  it('returns the manifest when the signature matches, whatever the key order on the wire', () => {
    const signed = signManifest(MANIFEST, key);
    const reordered = JSON.parse(JSON.stringify({ ...signed, manifest: Object.fromEntries(Object.entries(MANIFEST).reverse()) })) as unknown;
    expect(verifyManifest(reordered, key.publicKey)).toEqual(MANIFEST);
  });

  it('refuses a manifest with any field tampered (EBADSIG)', () => {
    const signed = signManifest(MANIFEST, key);
    const tampered: Partial<Record<keyof Manifest, unknown>> = {
      name: 'org.example.Server',
      version: '20261122T023711Z',
      parent: '20261121T000000Z',
      compressedSize: 31457281,
      sha256: '0'.repeat(64),
      createdAt: '2026-11-22T02:37:12.000Z',
    };
    for (const [field, value] of Object.entries(tampered)) {
      const copy = { ...signed, manifest: { ...signed.manifest, [field]: value } };
      expect(() => verifyManifest(copy, key.publicKey), field).toThrow(expect.objectContaining({ code: 'EBADSIG' }));
    }
    const added = { ...signed, manifest: { ...signed.manifest, extra: true } };
    expect(() => verifyManifest(added, key.publicKey)).toThrow(expect.objectContaining({ code: 'EBADSIG' }));
  });

  it('refuses a manifest signed with another key, even when it claims the pinned key id', () => {
    const other = otherKey();
    const signed = signManifest(MANIFEST, other);
    expect(() => verifyManifest(signed, key.publicKey)).toThrow(
      expect.objectContaining({ code: 'EBADSIG', message: `Cannot verify the manifest: it is signed with key ${other.keyId}, not the pinned key 06e3fd8fda29bb60` }),
    );
    const lying = { ...signed, keyId: key.keyId };
    expect(() => verifyManifest(lying, key.publicKey)).toThrow(
      expect.objectContaining({ code: 'EBADSIG', message: 'Cannot verify the manifest: its signature does not match key 06e3fd8fda29bb60' }),
    );
  });

  it('refuses a truncated or garbled signature', () => {
    const signed = signManifest(MANIFEST, key);
    for (const signature of ['', signed.signature.slice(0, 40), '!!!!', Buffer.alloc(64).toString('base64')]) {
      expect(() => verifyManifest({ ...signed, signature }, key.publicKey)).toThrow(expect.objectContaining({ code: 'EBADSIG' }));
    }
  });

  it('refuses documents that are not signed manifests (EBADMANIFEST)', () => {
    for (const doc of [null, 'x', [], { manifest: MANIFEST }, { manifest: MANIFEST, keyId: 'k' }, { manifest: 1, keyId: 'k', signature: 's' }]) {
      expect(() => verifyManifest(doc, key.publicKey)).toThrow(expect.objectContaining({ code: 'EBADMANIFEST' }));
    }
  });

  it('refuses a correctly signed manifest of an unknown format', () => {
    const signed = signManifest({ ...MANIFEST, format: 'trowel.manifest/2' } as unknown as Manifest, key);
    expect(() => verifyManifest(signed, key.publicKey)).toThrow('Cannot read the manifest: format is "trowel.manifest/2", expected "trowel.manifest/1"');
  });
});

describe('parseManifest', () => {
  it('names the first bad field', () => {
    const cases: [Partial<Record<keyof Manifest, unknown>>, string][] = [
      [{ name: '' }, 'name is not a non-empty string'],
      [{ parent: 7 }, 'parent is neither null nor a version'],
      [{ compression: 'gzip' }, 'compression is "gzip", expected "zstd"'],
      [{ compressedSize: -1 }, 'compressedSize is not a byte count'],
      [{ uncompressedSize: 1.5 }, 'uncompressedSize is not a byte count'],
      [{ sha256: 'ABC' }, 'sha256 is not 64 lowercase hex digits'],
    ];
    for (const [change, message] of cases) {
      expect(() => parseManifest({ ...MANIFEST, ...change })).toThrow(`Cannot read the manifest: ${message}`);
    }
    expect(parseManifest({ ...MANIFEST, parent: '20261121T101010Z' }).parent).toBe('20261121T101010Z');
  });
});
