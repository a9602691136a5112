import { describe, expect, it } from 'vitest';
import { Router } from './router.ts';

const ok = () => new Response('ok');

function router(): Router {
  return new Router()
    .get('/boot/ipxe', ok)
    .get('/boot/files/*', ok)
    .get('/api/v1/machines/:mac', ok)
    .put('/api/v1/machines/:mac/action', ok);
}

describe('Router.match', () => {
  it('finds a literal route and reports its pattern', () => {
    expect(router().match('GET', '/boot/ipxe')).toMatchObject({ kind: 'found', pattern: '/boot/ipxe', params: {} });
  });

  it('decodes :name params and rejects an empty segment', () => {
    expect(router().match('GET', '/api/v1/machines/52%3A54%3A00%3A00%3A00%3A01')).toMatchObject({
      kind: 'found',
      params: { mac: '52:54:00:00:00:01' },
    });
    expect(router().match('GET', '/api/v1/machines/')).toEqual({ kind: 'not_found' });
  });

  it('keeps a malformed escape raw instead of throwing', () => {
    expect(router().match('GET', '/api/v1/machines/%zz')).toMatchObject({ kind: 'found', params: { mac: '%zz' } });
  });

  it('gives * the raw rest of the path, possibly empty', () => {
    expect(router().match('GET', '/boot/files/efi/boot%20x/a.efi')).toMatchObject({ params: { '*': 'efi/boot%20x/a.efi' } });
    expect(router().match('GET', '/boot/files/')).toMatchObject({ kind: 'found', params: { '*': '' } });
  });

  it('serves HEAD from GET routes', () => {
    expect(router().match('HEAD', '/boot/ipxe')).toMatchObject({ kind: 'found', pattern: '/boot/ipxe' });
  });

  it('answers a known path under another method with the allowed methods', () => {
    expect(router().match('POST', '/boot/ipxe')).toEqual({ kind: 'method_not_allowed', allow: ['GET', 'HEAD'] });
    expect(router().match('GET', '/api/v1/machines/aa/action')).toEqual({ kind: 'method_not_allowed', allow: ['PUT'] });
  });

  it('does not match extra or missing segments', () => {
    expect(router().match('GET', '/boot/ipxe/extra')).toEqual({ kind: 'not_found' });
    expect(router().match('GET', '/boot')).toEqual({ kind: 'not_found' });
    expect(router().match('GET', '/')).toEqual({ kind: 'not_found' });
  });

  it('refuses a pattern with * before its end', () => {
    expect(() => new Router().get('/a/*/b', ok)).toThrow(TypeError);
  });
});
