/**
 * nginx, the peer of the serving benchmark: the configuration the bench
 * writes (sendfile on, as nginx is deployed to serve large static files;
 * one worker per core; no access log, as trowel writes no per-request
 * line at its default level) and its start in the bench namespace. It
 * serves the very cache file trowel serves, from the cache directory.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Netns } from '../../src/lab/netns.ts';
import { processCpuSeconds } from './cpu.ts';
import { startServer, type ServerProcess } from './server-process.ts';

export interface NginxSetup {
  /** nginx's prefix: pid file and temp directories go here. */
  dir: string;
  /** The directory served at /. */
  root: string;
  address: string;
  port: number;
}

/** The whole nginx.conf (pure, unit-tested). */
export function nginxConfig(s: NginxSetup): string {
  const temp = (name: string) => join(s.dir, name);
  return `# Written by bench/templates.ts for one run.
daemon off;
master_process on;
worker_processes auto;
user root;
pid ${join(s.dir, 'nginx.pid')};
# The start notices go to stderr: "start worker process" is the bench's sign that nginx listens.
error_log stderr notice;

events {
    worker_connections 1024;
}

http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    default_type application/zstd;
    client_body_temp_path ${temp('client_body')};
    proxy_temp_path ${temp('proxy')};
    fastcgi_temp_path ${temp('fastcgi')};
    uwsgi_temp_path ${temp('uwsgi')};
    scgi_temp_path ${temp('scgi')};

    server {
        listen ${s.address}:${s.port};
        root ${s.root};
        location / {
        }
    }
}
`;
}

export async function startNginx(ns: Netns, setup: NginxSetup): Promise<ServerProcess> {
  const conf = join(setup.dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(setup));
  const server = await startServer(ns, 'nginx', 'nginx', ['-p', setup.dir, '-c', conf], { readyLine: /start worker process/, timeoutMs: 20_000 });
  // The master forks its workers as it starts, often before server-process.ts has moved it into its
  // cgroup (seen here: the workers stayed in the root group, and the group counted only the idle
  // master). The workers live as long as the master, so /proc of the whole tree counts them all.
  const master = server.child.pid!;
  return { ...server, cpuSeconds: () => treeCpuSeconds(master) };
}

/** CPU seconds of a process and its live children (and whatever children they reaped). */
function treeCpuSeconds(pid: number): number {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    /* gone: counted as nothing more */
  }
  let own = 0;
  try {
    own = processCpuSeconds(pid);
  } catch {
    /* exited between the listing and the read */
  }
  return own + children.reduce((sum, child) => sum + treeCpuSeconds(child), 0);
}

/** The command line the report names. */
export function describeNginx(): string {
  return 'nginx -p DIR -c DIR/nginx.conf (written by the bench: `worker_processes auto; sendfile on; tcp_nopush on; access_log off;`, root = the stream cache directory)';
}
