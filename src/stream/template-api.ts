/**
 * The client side of the template API (docs/templates.md, "HTTP API"):
 * list a server's templates, fetch a signed manifest, and build stream URLs.
 * Every failure is a TrowelError with one sentence: "Cannot reach server
 * <url>: ECONNREFUSED" without an answer, "Cannot <action>: server says
 * <status> (<code>): <reason>" when the server refuses.
 */
import { request, type Dispatcher } from 'undici';
import { TrowelError } from '../errors.ts';
import type { PackageDiff } from '../pool/packages.ts';

export interface RemoteVersion {
  version: string;
  parent: string | null;
  sizeBytes: number;
  publishedAt: string;
}

export interface RemoteTemplate {
  name: string;
  arch: string;
  /** Newest first, as the server lists them. */
  versions: RemoteVersion[];
}

export interface TemplateRefLike {
  name: string;
  arch: string;
  version: string;
}

export class TemplateApi {
  readonly server: string;
  readonly #timeoutMs: number;
  readonly #dispatcher: Dispatcher | undefined;

  constructor(server: string, options: { timeoutMs?: number; dispatcher?: Dispatcher } = {}) {
    this.server = server.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#dispatcher = options.dispatcher;
  }

  async listTemplates(): Promise<RemoteTemplate[]> {
    const body = await this.#getJson('list templates', '/api/v1/templates');
    const templates = (body as { templates?: unknown }).templates;
    if (!Array.isArray(templates)) throw new TrowelError('ESERVER', `Cannot list templates: ${this.server} answered without a "templates" list`);
    return templates as RemoteTemplate[];
  }

  /**
   * The signed manifest as the server sent it, unverified: the caller checks
   * it with `verifyManifest`. Asking for it makes the server build the stream
   * if it has no cached copy, which can take a while: the timeout is generous.
   */
  async fetchManifest(ref: TemplateRefLike, parent: string | null): Promise<unknown> {
    return this.#getJson(`fetch the manifest of ${describeRef(ref, parent)}`, this.#path(ref, 'manifest', parent), 10 * this.#timeoutMs);
  }

  /** What changed in the installed packages from `parent` to `ref` (GET .../packages?parent=). */
  async packageDiff(ref: TemplateRefLike, parent: string): Promise<PackageDiff> {
    return (await this.#getJson(`list the package changes of ${describeRef(ref, parent)}`, this.#path(ref, 'packages', parent))) as PackageDiff;
  }

  streamUrl(ref: TemplateRefLike, parent: string | null): string {
    return this.server + this.#path(ref, 'stream', parent);
  }

  /** @private Names are validated by the caller; encoding is for the URL syntax only. */
  #path(ref: TemplateRefLike, what: string, parent: string | null): string {
    const query = parent === null ? '' : `?parent=${encodeURIComponent(parent)}`;
    return `/api/v1/templates/${encodeURIComponent(ref.name)}/${encodeURIComponent(ref.arch)}/${encodeURIComponent(ref.version)}/${what}${query}`;
  }

  /** @private */
  async #getJson(what: string, path: string, timeoutMs = this.#timeoutMs): Promise<unknown> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.server + path, {
        method: 'GET',
        headers: { accept: 'application/json' },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        dispatcher: this.#dispatcher,
      });
    } catch (e) {
      throw new TrowelError('EUNREACHABLE', `Cannot reach server ${this.server}: ${networkReason(e)}`, { cause: e });
    }
    const raw = await response.body.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    if (response.statusCode !== 200) {
      const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      // The server's own "Cannot <action>: " prefix would repeat ours; keep its reason.
      const detail = typeof error?.message === 'string' ? error.message.replace(/^Cannot [^:]+: /, '') : response.statusText || 'no reason given';
      const code = typeof error?.code === 'string' ? ` (${error.code})` : '';
      throw new TrowelError(response.statusCode === 404 ? 'ENOTFOUND' : 'ESERVER', `Cannot ${what}: server says ${response.statusCode}${code}: ${detail}`);
    }
    if (body === undefined) throw new TrowelError('ESERVER', `Cannot ${what}: ${this.server} answered without JSON (is it a trowel server?)`);
    return body;
  }
}

/** "org.example.Desktop x86_64 20261122T023710Z" (+ " from <parent>" for an incremental stream). */
export function describeRef(ref: TemplateRefLike, parent: string | null = null): string {
  return `${ref.name} ${ref.arch} ${ref.version}${parent === null ? '' : ` from ${parent}`}`;
}

/** @private */
function networkReason(e: unknown): string {
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  if (err.code === 'UND_ERR_HEADERS_TIMEOUT') return 'no answer in time';
  return err.code ?? err.cause?.code ?? err.message ?? String(e);
}
