import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TemplatePool } from '../../pool/index.ts';
import { initKeys, loadSigningKey, StreamCache } from '../../stream/index.ts';
import { createHttpApp, type HttpApp } from '../app.ts';
import { makeFixture, type Fixture } from '../test-fixture.ts';

// In-process checks that need no btrfs: the real answers over loop devices are in
// test/integration/templates-http.test.ts.

let f: Fixture;
beforeEach(() => {
  f = makeFixture();
});
afterEach(() => f.cleanup());

function appWith(extra: Partial<Parameters<typeof createHttpApp>[0]>): (path: string, init?: RequestInit) => Promise<Response> {
  const app: HttpApp = createHttpApp({ ...f.options, ...extra });
  return (path, init) => app.fetch(new Request(`http://10.0.0.1:8080${path}`, init));
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

/** A real pool over a directory that doesn't exist, recording every method called on it. */
function recordingPool(calls: string[]): TemplatePool {
  const pool = new TemplatePool(join(f.dir, 'no-such-pool'));
  return new Proxy(pool, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${String(prop)}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('template routes without a pool or a key', () => {
  it('answer 503 pool_unavailable without a pool', async () => {
    const get = appWith({});
    for (const path of ['/api/v1/templates', '/api/v1/templates/org.example.A/x86_64/latest/manifest', '/api/v1/templates/org.example.A/x86_64/latest/packages']) {
      const res = await get(path);
      expect(res.status, path).toBe(503);
      expect(await errorOf(res)).toEqual({ code: 'pool_unavailable', message: 'Cannot answer template requests: this server has no template pool' });
    }
  });

  it('answer 503 signing_key_missing for manifests and streams without a key', async () => {
    const get = appWith({ pool: recordingPool([]) });
    for (const what of ['manifest', 'stream']) {
      const res = await get(`/api/v1/templates/org.example.A/x86_64/latest/${what}`);
      expect(res.status).toBe(503);
      expect((await errorOf(res)).code).toBe('signing_key_missing');
    }
  });
});

describe('template routes with invalid names', () => {
  it.each([
    ['/api/v1/templates/..%2F..%2Fetc%2Fpasswd/x86_64/latest/stream', 'Cannot use template name "../../etc/passwd"'],
    ['/api/v1/templates/..%2F..%2Fetc/x86_64/latest/manifest', 'Cannot use template name "../../etc"'],
    ['/api/v1/templates/Desktop/x86_64/latest/manifest', 'it needs a lowercase namespace'],
    ['/api/v1/templates/org.example.D%C3%A9sktop/x86_64/latest/stream', 'ASCII'],
    [`/api/v1/templates/org.example.${'A'.repeat(130)}/x86_64/latest/stream`, 'longer than 128'],
    ['/api/v1/templates/org.example.Desktop/amd64/latest/stream', 'Cannot use arch "amd64"'],
    ['/api/v1/templates/org.example.Desktop/..%2F..%2F/latest/stream', 'Cannot use arch'],
    ['/api/v1/templates/org.example.Desktop/x86_64/..%2F..%2Fpasswd/stream', 'Cannot use version "../../passwd"'],
    ['/api/v1/templates/org.example.Desktop/x86_64/20261131T000000Z/packages', 'not a real UTC date'],
    ['/api/v1/templates/org.example.Desktop/x86_64/latest/stream?parent=../x', 'Cannot use version "../x"'],
    ['/api/v1/templates/org.example.Desktop/x86_64/latest/packages?parent=LATEST', 'Cannot use version "LATEST"'],
  ])('%s is 400 invalid_name before the pool is asked', async (path, message) => {
    const calls: string[] = [];
    const key = await loadSigningKey((await initKeys(join(f.dir, 'state')), join(f.dir, 'state')));
    const pool = recordingPool(calls);
    const get = appWith({ pool, streams: new StreamCache({ cacheDir: join(f.dir, 'cache'), pool, signingKey: key }) });
    const res = await get(path);
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('invalid_name');
    expect(error.message).toContain(message);
    expect(calls).toEqual([]);
  });

  it('a valid name reaches the pool (which reports its missing root as a server error here)', async () => {
    const calls: string[] = [];
    const get = appWith({ pool: recordingPool(calls) });
    const res = await get('/api/v1/templates/org.example.Desktop/x86_64/20261122T023710Z/packages');
    expect(calls[0]).toBe('get("org.example.Desktop", "x86_64", "20261122T023710Z")');
    expect(res.status).toBe(500);
    expect(f.logs.some((r) => r.event === 'handler_crashed' && String(r.error).includes('no-such-pool'))).toBe(true);
  });
});
