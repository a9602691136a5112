/**
 * The template API (docs/templates.md, "HTTP API"), read-only and open to
 * the boot network: the list of templates, and per version its signed
 * manifest, its cached send stream (Range, ETag, Repr-Digest) and its
 * package list. Every name, arch and version from the URL is checked
 * against the naming rules before the pool or the filesystem sees it.
 */
import { TrowelError } from '../../errors.ts';
import { diffPackages, readTemplatePackages, type InstalledPackage } from '../../pool/packages.ts';
import { LATEST, validateArch, validateName, validateVersion, type Arch, type TemplatePool, type TemplateVersion } from '../../pool/index.ts';
import type { CachedStream, StreamCache } from '../../stream/index.ts';
import type { Handler, RequestContext } from '../context.ts';
import { HttpError } from '../http-error.ts';
import { json } from '../respond.ts';
import { serveFile } from '../static-file.ts';
import type { RouteDeps } from './deps.ts';
import { streamFailure } from './stream-failure.ts';

export function listTemplatesRoute(deps: RouteDeps): Handler {
  return async () => {
    const pool = requirePool(deps);
    const templates: { name: string; arch: string; versions: object[] }[] = [];
    // list() is grouped by name and arch, newest first.
    for (const v of await pool.list()) {
      let group = templates.at(-1);
      if (!group || group.name !== v.name || group.arch !== v.arch) templates.push((group = { name: v.name, arch: v.arch, versions: [] }));
      group.versions.push({ version: v.version, parent: v.parent, sizeBytes: v.sizeBytes, publishedAt: v.publishedAt });
    }
    return json({ templates });
  };
}

/** GET /api/v1/templates/:name/:arch/:version/manifest[?parent=V]: made on first request. */
export function templateManifestRoute(deps: RouteDeps): Handler {
  return async (c) => json((await cachedStream(deps, c)).signed);
}

/** GET|HEAD .../stream[?parent=V]: the compressed send stream, from the cache file. */
export function templateStreamRoute(deps: RouteDeps): Handler {
  return async (c) => {
    const { file, signed } = await cachedStream(deps, c);
    const digest = Buffer.from(signed.manifest.sha256, 'hex').toString('base64');
    return serveFile(c.request, file, {
      // The digest names these exact bytes: a strong validator for If-Range resumes (RFC 9110 §8.8.3).
      etag: `"${signed.manifest.sha256}"`,
      contentType: 'application/zstd',
      // RFC 9530 §3: the digest of the whole representation, also on a 206.
      headers: { 'repr-digest': `sha-256=:${digest}:` },
    });
  };
}

/** GET .../packages[?parent=V]: installed Debian packages, or what changed since the parent. */
export function templatePackagesRoute(deps: RouteDeps): Handler {
  return async (c) => {
    const { version, parent } = await resolve(requirePool(deps), c);
    const packages = await packagesOf(version, c);
    if (!packages) {
      throw new HttpError(404, 'packages_not_found', `Cannot list the packages of ${label(version)}: it has no dpkg status file`);
    }
    if (!parent) return json({ packages });
    // A parent without dpkg had no packages: everything is new.
    return json(diffPackages((await packagesOf(parent, c)) ?? [], packages));
  };
}

/** @private */
function requirePool(deps: RouteDeps): TemplatePool {
  if (!deps.pool) throw new HttpError(503, 'pool_unavailable', 'Cannot answer template requests: this server has no template pool');
  return deps.pool;
}

/** @private */
function requireStreams(deps: RouteDeps): StreamCache {
  if (!deps.streams) {
    throw new HttpError(503, 'signing_key_missing', 'Cannot sign stream manifests: this server has no signing key (run "trowel keys init" on it)');
  }
  return deps.streams;
}

/** @private The version and optional parent named by the URL; 400 for bad names, 404 for missing ones. */
async function resolve(pool: TemplatePool, c: RequestContext): Promise<{ version: TemplateVersion; parent: TemplateVersion | undefined }> {
  const parentParam = c.url.searchParams.get('parent') || null;
  let name: string;
  let arch: Arch;
  let wanted: string;
  try {
    name = validateName(c.params.name ?? '');
    arch = validateArch(c.params.arch ?? '');
    wanted = c.params.version === LATEST ? LATEST : validateVersion(c.params.version ?? '');
    if (parentParam !== null) validateVersion(parentParam);
  } catch (e) {
    if (!(e instanceof TrowelError)) throw e;
    throw new HttpError(400, 'invalid_name', e.message);
  }
  const version = await pool.get(name, arch, wanted);
  if (!version) {
    if ((await pool.list({ name, arch })).length === 0) {
      throw new HttpError(404, 'template_not_found', `Cannot find template ${name} for ${arch}: the pool has no such template`);
    }
    throw new HttpError(404, 'version_not_found', `Cannot find ${name} ${arch} ${wanted}: no such version`);
  }
  if (parentParam === null) return { version, parent: undefined };
  const parent = parentParam === version.version ? undefined : await pool.get(name, arch, parentParam);
  if (!parent) throw parentNotFound(version, parentParam);
  return { version, parent };
}

/** @private Resolves the URL, then makes or finds the stream; errors of the send become one clear answer. */
async function cachedStream(deps: RouteDeps, c: RequestContext): Promise<CachedStream> {
  const pool = requirePool(deps);
  const streams = requireStreams(deps);
  const { version, parent } = await resolve(pool, c);
  try {
    return await streams.ensure(version, parent?.version ?? null);
  } catch (e) {
    if (e instanceof TrowelError && e.code === 'ENOVERSION') throw new HttpError(404, 'version_not_found', e.message);
    if (e instanceof TrowelError && e.code === 'ENOPARENT') throw parentNotFound(version, parent?.version ?? '');
    const failure = streamFailure(e, label(version));
    if (!failure) throw e;
    c.log.error('stream_failed', { peer: c.peer, template: version.name, arch: version.arch, version: version.version, parent: parent?.version ?? null, error: (e as Error).message });
    throw failure;
  }
}

/** @private Undefined when the tree has no dpkg database; a status file leading out of the tree counts as none. */
async function packagesOf(version: TemplateVersion, c: RequestContext): Promise<InstalledPackage[] | undefined> {
  try {
    return await readTemplatePackages(version.path);
  } catch (e) {
    if (!(e instanceof TrowelError)) throw e;
    c.log.warn('packages_unreadable', { peer: c.peer, template: version.name, arch: version.arch, version: version.version, error: e.message });
    return undefined;
  }
}

/** @private */
function parentNotFound(version: TemplateVersion, parent: string): HttpError {
  return new HttpError(404, 'parent_not_found', `Cannot make an incremental stream of ${label(version)}: there is no other version ${parent} to start from`);
}

/** @private */
function label(v: TemplateVersion): string {
  return `${v.name} ${v.arch} ${v.version}`;
}
