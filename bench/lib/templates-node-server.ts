/**
 * A reference for the serving benchmark, not a peer: the plainest Node
 * server of one file, `fs.createReadStream(file).pipe(response)` with
 * node:http, 256 KiB reads (trowel's read size), no web streams, no
 * routing, no metrics. Node has no sendfile(2), so every byte is copied
 * from the page cache into a buffer and from it into the socket; this
 * server shows how fast that alone goes on the rig, i.e. what any Node
 * server could reach, against which trowel's own overhead can be read.
 *
 *   node bench/lib/templates-node-server.ts FILE ADDRESS PORT
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { Netns } from '../../src/lab/netns.ts';
import { startServer, type ServerProcess } from './server-process.ts';

const READ_CHUNK = 256 * 1024;

export function startNodeReference(ns: Netns, file: string, address: string, port: number): Promise<ServerProcess> {
  return startServer(ns, 'node', process.execPath, [join(import.meta.dirname, 'templates-node-server.ts'), file, address, String(port)], {
    readyLine: /^listening$/,
    timeoutMs: 20_000,
  });
}

export function describeNodeReference(): string {
  return '`node bench/lib/templates-node-server.ts` (node:http, `createReadStream(file, { highWaterMark: 256 KiB }).pipe(res)`, any path answers the one file)';
}

if (import.meta.main) {
  const [file, address, port] = process.argv.slice(2);
  const size = statSync(file!).size;
  createServer((req, res) => {
    res.writeHead(200, { 'content-length': String(size), 'content-type': 'application/zstd' });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file!, { highWaterMark: READ_CHUNK }).pipe(res);
  }).listen(Number(port), address, () => process.stdout.write('listening\n'));
}
