/**
 * GET|HEAD /boot/files/<path>: kernels, initramfs and other boot files from
 * `http.root`. Every path is confined to the root (safe-path.ts); an attempt
 * to leave it is answered 403 and logged with the peer address, since it is
 * either a misconfiguration or someone probing the server.
 */
import type { Handler } from '../context.ts';
import { HttpError } from '../http-error.ts';
import { resolveInsideRoot } from '../safe-path.ts';
import { serveFile } from '../static-file.ts';
import type { RouteDeps } from './deps.ts';

export function bootFilesRoute(deps: RouteDeps): Handler {
  return async ({ request, params, peer, log }) => {
    const raw = params['*'] ?? '';
    const resolved = await resolveInsideRoot(deps.config.http.root, raw);
    if (resolved.ok) return serveFile(request, resolved.path);
    switch (resolved.reason) {
      case 'bad_encoding':
        throw new HttpError(400, 'bad_path', 'Cannot read the file path: it has a malformed %-escape');
      case 'traversal':
      case 'outside_root':
        log.warn('file_path_refused', { peer, path: raw, reason: resolved.reason });
        throw new HttpError(403, 'forbidden_path', 'Cannot serve the file: the path leads outside the boot root');
      case 'not_found':
        throw new HttpError(404, 'not_found', 'Cannot find the file: no such file under the boot root');
    }
  };
}
