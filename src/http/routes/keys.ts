/**
 * GET /api/v1/keys: the public key that signs stream manifests, so an
 * operator can compare it with what clients pin. Clients never trust it
 * from here: a key fetched over the same network as the manifest would
 * prove nothing, so they pin it (--key FILE or trowel.key=).
 */
import { publicKeyPem } from '../../stream/index.ts';
import type { Handler } from '../context.ts';
import { json } from '../respond.ts';
import type { RouteDeps } from './deps.ts';

export function keysRoute(deps: RouteDeps): Handler {
  return () => {
    const streams = deps.streams;
    const keys = streams ? [{ keyId: streams.keyId, algorithm: 'ed25519', publicKey: publicKeyPem(streams.publicKey) }] : [];
    return json({ keys });
  };
}
