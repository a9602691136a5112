import { describe, expect, it } from 'vitest';
import { nginxConfig } from './templates-nginx.ts';

describe('nginxConfig', () => {
  const conf = nginxConfig({ dir: '/w/nginx', root: '/s/cache', address: '127.0.0.1', port: 8081 });

  it('serves the root with sendfile, one worker per core, no access log, in the foreground', () => {
    for (const line of ['daemon off;', 'worker_processes auto;', 'sendfile on;', 'tcp_nopush on;', 'access_log off;', 'listen 127.0.0.1:8081;', 'root /s/cache;']) {
      expect(conf).toContain(line);
    }
  });

  it('keeps its pid file and every temp path in its own directory', () => {
    expect(conf).toContain('pid /w/nginx/nginx.pid;');
    const temps = conf.split('\n').filter((l) => /_temp_path /.test(l));
    expect(temps).toHaveLength(5);
    for (const l of temps) expect(l).toMatch(/ \/w\/nginx\/\w+;$/);
  });

  it('logs its start notices to stderr, where the bench waits for "start worker process"', () => {
    expect(conf).toContain('error_log stderr notice;');
  });
});
