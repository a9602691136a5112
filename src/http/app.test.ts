import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, type Fixture } from './test-fixture.ts';

let f: Fixture;
afterEach(() => f?.cleanup());

describe('createHttpApp', () => {
  it('answers an unknown route 404 in the JSON error shape', async () => {
    f = makeFixture();
    const res = await f.get('/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'Cannot find /nope: no such route' } });
  });

  it('answers a wrong method 405 with Allow', async () => {
    f = makeFixture();
    const res = await f.get('/api/v1/machines', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
    const put = await f.get('/api/v1/machines/52:54:00:00:00:01/action');
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('PUT');
  });

  it('logs a handler crash and answers 500 without a stack trace', async () => {
    f = makeFixture();
    f.db.close(); // every store query now throws a real error inside the handler
    const res = await f.get('/api/v1/machines');
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({
      error: { code: 'internal_error', message: 'Cannot answer the request: internal server error (see the server log)' },
    });
    expect(body).not.toMatch(/at |\.ts|database/i);
    const crash = f.logs.find((r) => r.event === 'handler_crashed');
    expect(crash).toMatchObject({ level: 'error', method: 'GET', path: '/api/v1/machines', peer: 'in-process' });
    expect(String(crash?.stack)).toContain('machines.ts');
  });

  it('answers HEAD with the GET headers and no body', async () => {
    f = makeFixture();
    const get = await f.get('/api/v1/health');
    const head = await f.get('/api/v1/health', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
    expect(head.body).toBeNull();
  });

  it('reports health with version and uptime', async () => {
    f = makeFixture();
    const res = await f.get('/api/v1/health');
    expect(await res.json()).toEqual({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/), uptimeSeconds: 0 });
  });

  it('counts requests by route pattern and status, and response bytes, in /metrics', async () => {
    f = makeFixture();
    await (await f.get('/api/v1/health')).text();
    await (await f.get('/api/v1/machines/52:54:00:00:00:99')).text();
    await (await f.get('/no/such/thing')).text();
    const res = await f.get('/metrics');
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('# TYPE trowel_http_requests_total counter\n');
    expect(text).toContain('trowel_http_requests_total{route="/api/v1/health",status="200"} 1\n');
    expect(text).toContain('trowel_http_requests_total{route="/api/v1/machines/:mac",status="404"} 1\n');
    expect(text).toContain('trowel_http_requests_total{route="unmatched",status="404"} 1\n');
    expect(text).toMatch(/trowel_http_response_bytes_total\{route="\/api\/v1\/health"\} [1-9]\d*\n/);
    expect(f.metrics.counter('trowel_http_requests_total', '').get({ route: '/metrics', status: '200' })).toBe(1);
  });
});
