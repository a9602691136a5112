import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TemplatePool } from '../../pool/index.ts';
import { initKeys, keyIdOf, loadSigningKey, parsePublicKey, StreamCache } from '../../stream/index.ts';
import { createHttpApp } from '../app.ts';
import { makeFixture, type Fixture } from '../test-fixture.ts';

let f: Fixture;
beforeEach(() => {
  f = makeFixture();
});
afterEach(() => f.cleanup());

describe('GET /api/v1/keys', () => {
  it('lists no key when the server has no signing key', async () => {
    const res = await f.get('/api/v1/keys');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ keys: [] });
  });

  it('lists the signing key as written by trowel keys init', async () => {
    const state = join(f.dir, 'state');
    const files = await initKeys(state);
    const pool = new TemplatePool(join(f.dir, 'pool'));
    const streams = new StreamCache({ cacheDir: join(f.dir, 'cache'), pool, signingKey: await loadSigningKey(state) });
    const app = createHttpApp({ ...f.options, pool, streams });
    const res = await app.fetch(new Request('http://10.0.0.1:8080/api/v1/keys'));
    const body = (await res.json()) as { keys: { keyId: string; algorithm: string; publicKey: string }[] };
    expect(body).toEqual({ keys: [{ keyId: files.keyId, algorithm: 'ed25519', publicKey: await readFile(files.publicKeyPath, 'utf8') }] });
    expect(keyIdOf(parsePublicKey(body.keys[0]!.publicKey))).toBe(files.keyId);
  });
});
