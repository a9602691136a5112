import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrowelError } from '../errors.ts';
import { describeRef, TemplateApi } from './template-api.ts';

let server: Server;
let base: string;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    if (req.url === '/api/v1/templates') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ templates: [{ name: 'org.example.A', arch: 'x86_64', versions: [] }] }));
    } else if (req.url?.includes('/manifest')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'version_not_found', message: 'Cannot find org.example.A x86_64 20260101T000000Z: no such version' } }));
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not trowel</html>');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const ref = { name: 'org.example.A', arch: 'x86_64', version: '20260101T000000Z' };

describe('TemplateApi', () => {
  it('lists templates', async () => {
    expect(await new TemplateApi(`${base}/`).listTemplates()).toEqual([{ name: 'org.example.A', arch: 'x86_64', versions: [] }]);
  });

  it('builds manifest and stream paths with the parent as a query', async () => {
    const api = new TemplateApi(base);
    expect(api.streamUrl(ref, null)).toBe(`${base}/api/v1/templates/org.example.A/x86_64/20260101T000000Z/stream`);
    expect(api.streamUrl(ref, '20251231T000000Z')).toBe(`${base}/api/v1/templates/org.example.A/x86_64/20260101T000000Z/stream?parent=20251231T000000Z`);
    await api.fetchManifest(ref, '20251231T000000Z').catch(() => {});
    expect(seen.at(-1)).toBe('/api/v1/templates/org.example.A/x86_64/20260101T000000Z/manifest?parent=20251231T000000Z');
  });

  it('turns a refusal into one sentence with the server\'s code and reason', async () => {
    const e = await new TemplateApi(base).fetchManifest(ref, null).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(TrowelError);
    expect(e).toMatchObject({
      code: 'ENOTFOUND',
      message: 'Cannot fetch the manifest of org.example.A x86_64 20260101T000000Z: server says 404 (version_not_found): no such version',
    });
  });

  it('says when the answer is not a trowel server\'s JSON, or there is no answer', async () => {
    const other = new TemplateApi(`${base}/elsewhere`);
    await expect(other.listTemplates()).rejects.toThrow(`Cannot list templates: ${base}/elsewhere answered without JSON (is it a trowel server?)`);
    await expect(new TemplateApi('http://127.0.0.1:9').listTemplates()).rejects.toMatchObject({
      code: 'EUNREACHABLE',
      message: 'Cannot reach server http://127.0.0.1:9: ECONNREFUSED',
    });
  });

  it('describeRef names a version and its incremental base', () => {
    expect(describeRef(ref)).toBe('org.example.A x86_64 20260101T000000Z');
    expect(describeRef(ref, '20251231T000000Z')).toBe('org.example.A x86_64 20260101T000000Z from 20251231T000000Z');
  });
});
