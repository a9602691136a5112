/** Streams: compression, manifests, signatures and keys (server side and client side). */
export { StreamCache, MANIFESTS_DIR, type CachedStream, type StreamCacheOptions, type VersionLookup } from './cache.ts';
export { canonicalJson } from './canonical-json.ts';
export { createZstdCompressor, createZstdDecompressor, ZSTD_LEVEL, ZSTD_MAGIC } from './compress.ts';
export {
  initKeys, keyIdOf, keyPaths, loadPublicKey, loadSigningKey, parsePublicKey, publicKeyBase64, publicKeyPem, readPublicKeyFile,
  type KeyFiles, type SigningKey,
} from './keys.ts';
export { MANIFEST_FORMAT, parseManifest, signManifest, verifyManifest, type Manifest, type SignedManifest } from './manifest.ts';
