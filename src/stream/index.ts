/** Streams: compression, manifests, signatures and keys (server side and client side). */
export { StreamCache, MANIFESTS_DIR, type CachedStream, type StreamCacheOptions, type VersionLookup } from './cache.ts';
export { canonicalJson } from './canonical-json.ts';
export { createZstdCompressor, createZstdDecompressor, ZSTD_LEVEL, ZSTD_MAGIC } from './compress.ts';
export {
  initKeys, keyIdOf, keyPaths, loadPublicKey, loadSigningKey, parsePublicKey, publicKeyBase64, publicKeyPem, readPublicKeyFile,
  type KeyFiles, type SigningKey,
} from './keys.ts';
export { MANIFEST_FORMAT, parseManifest, signManifest, verifyManifest, type Manifest, type SignedManifest } from './manifest.ts';
// Client side: receiving (resumable, verified) and replication.
export { resumableFetch, type ResumableFetchOptions, type RetryInfo } from './resumable-fetch.ts';
export { receiveTemplate, type ReceiveOptions, type ReceivedTemplate } from './receive.ts';
export { pullTemplates, type PullOptions, type PullResult, type PulledVersion, type PullTarget } from './pull.ts';
export { planPull, type PullStep } from './pull-plan.ts';
export { TemplateApi, describeRef, type RemoteTemplate, type RemoteVersion } from './template-api.ts';
export { ProgressMeter, formatProgress, formatBytes, type ProgressSnapshot } from './progress.ts';
export { createProgressLine, type ProgressLine, type ProgressOutput } from './progress-line.ts';
